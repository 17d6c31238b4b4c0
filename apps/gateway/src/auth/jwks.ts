import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from '@neon/kit';

/** Fetches the JWKS document (from identity, through the upstream pool). */
export type JwksFetcher = () => Promise<unknown>;

interface Jwk {
  kty?: unknown;
  kid?: unknown;
  alg?: unknown;
  use?: unknown;
  n?: unknown;
  e?: unknown;
}

/** A verification key with the size of the signatures it checks. */
export interface VerificationKey {
  key: KeyObject;
  /** RS256 signature length: the modulus size in bytes. */
  signatureBytes: number;
  /** The same in unpadded base64url characters. */
  signatureChars: number;
}

/**
 * The signing keys identity publishes, by `kid`. Fetched on first use and
 * again when a token names a `kid` we do not know (a rotation), at most once
 * per cooldown so a flood of forged kids cannot hammer identity.
 */
export class JwksCache {
  private keys = new Map<string, VerificationKey>();
  private lastFetch = 0;
  private inflight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly fetcher: JwksFetcher,
    private readonly options: { cooldownMs: number; logger: Logger },
  ) {}

  async get(kid: string): Promise<VerificationKey | null> {
    const known = this.keys.get(kid);
    if (known) return known;
    if (this.inflight) await this.inflight;
    else if (Date.now() - this.lastFetch >= this.options.cooldownMs || this.lastFetch === 0)
      await this.refresh();
    return this.keys.get(kid) ?? null;
  }

  /** Known without a fetch: the verifier's synchronous fast path. */
  peek(kid: string): VerificationKey | undefined {
    return this.keys.get(kid);
  }

  /** No fetch after this; one in flight ends without a warning (its pool is gone, not identity). */
  close(): void {
    this.closed = true;
  }

  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    if (this.closed) return;
    this.lastFetch = Date.now();
    try {
      const doc = (await this.fetcher()) as { keys?: unknown };
      if (!doc || !Array.isArray(doc.keys)) throw new Error('JWKS document without keys');
      const next = new Map<string, VerificationKey>();
      for (const jwk of doc.keys as Jwk[]) {
        if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string') continue;
        if (jwk.alg !== undefined && jwk.alg !== 'RS256') continue;
        if (jwk.use !== undefined && jwk.use !== 'sig') continue;
        if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') continue;
        try {
          const key = createPublicKey({
            key: { kty: 'RSA', n: jwk.n, e: jwk.e },
            format: 'jwk',
          });
          // Below 2048 bits RS256 is not a signature we accept.
          const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
          if (bits < 2048) continue;
          const bytes = Math.ceil(bits / 8);
          next.set(jwk.kid, {
            key,
            signatureBytes: bytes,
            signatureChars: Math.ceil((bytes * 4) / 3),
          });
        } catch {
          continue;
        }
      }
      this.keys = next;
    } catch (err) {
      // Keep the keys we have: identity being down must not log everyone out.
      if (!this.closed)
        this.options.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'JWKS fetch failed',
        );
    }
  }
}
