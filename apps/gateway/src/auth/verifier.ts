import { verify as verifySignature } from 'node:crypto';
import type { Role } from '@neon/contracts';
import type { JwksCache } from './jwks.js';

export type TokenErrorCode = 'AUTH_TOKEN_INVALID' | 'AUTH_TOKEN_EXPIRED';

export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'TokenError';
  }
}

/** A verified caller, as the gateway passes it on. */
export interface VerifiedToken {
  sub: string;
  username: string;
  roles: Role[];
  jti: string | null;
  /** The session (refresh family) it was issued for; null on a token that names none. */
  sid: string | null;
  /**
   * When the account has a second factor: the session's last check of it
   * (seconds since the epoch, 0 = none); null when the account has none.
   */
  sua: number | null;
  /** Seconds since the epoch, as issued. */
  iat: number;
  exp: number;
  /** The audience it was verified for: a cached token counts only for the same one. */
  aud: string;
  /** An OAuth access token's application (RFC 9068 `client_id`), else null. */
  clientId: string | null;
  /** An OAuth access token's scopes, space-separated; null on a first-party token. */
  scope: string | null;
}

export interface VerifyRules {
  issuer: string;
  audience: string;
  /** Longest accepted `exp - iat`, in seconds. */
  maxLifetimeSeconds: number;
  /** Clock skew accepted on `exp`, `nbf` and `iat`, in seconds (<= 60). */
  leewaySeconds: number;
  /** Skew accepted on `exp` alone when it must be tighter (60 s tickets), else `leewaySeconds`. */
  expiryLeewaySeconds?: number;
  /**
   * OAuth access tokens (RFC 9068): `client_id` and `scope` required; `username`
   * only when the token acts for a user (an app token's `sub` is its client id).
   */
  oauth?: boolean;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function decodeJson(segment: string, check = true): Record<string, unknown> {
  if (check && !SEGMENT.test(segment))
    throw new TokenError('AUTH_TOKEN_INVALID', 'malformed segment');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('AUTH_TOKEN_INVALID', 'segment is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TokenError('AUTH_TOKEN_INVALID', 'segment is not an object');
  return value as Record<string, unknown>;
}

/** A function, not a closure per call: this runs for every token. */
function invalid(reason: string): TokenError {
  return new TokenError('AUTH_TOKEN_INVALID', reason);
}

function fail(reason: string): never {
  throw invalid(reason);
}

/** Whether `s` from `from` to its end is base64url without padding (RFC 7515 §2): a loop, no substring. */
function isBase64url(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2d ||
      c === 0x5f
    ))
      return false;
  }
  return true;
}

/** The 6-bit value of a base64url character already checked by isBase64url. */
function sextet(c: number): number {
  if (c === 0x2d) return 62;
  if (c === 0x5f) return 63;
  if (c >= 0x61) return c - 0x61 + 26;
  if (c >= 0x41) return c - 0x41;
  return c - 0x30 + 52;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * RS256 JWT verification against the JWKS. The signature check is node's
 * one-shot `crypto.verify` (synchronous, OpenSSL underneath): jose's WebCrypto
 * path costs about three times the CPU per token, and this runs on every API
 * request. The rules are written out here and covered by the bad-token tests
 * (`alg` other than RS256, unknown `kid`, bad signature, times, audience,
 * lifetime, missing claims).
 */
export class TokenVerifier {
  /**
   * The `kid` of each protected header already seen, by its encoded segment:
   * every token from one key shares it, so it is decoded and checked once.
   */
  private readonly kids = new Map<string, string>();
  /** The signed bytes and the signature are decoded here rather than into new buffers per token (verify is synchronous). */
  private readonly scratch = Buffer.allocUnsafe(4096);
  private readonly signature = Buffer.allocUnsafe(1024);

  constructor(private readonly jwks: JwksCache) {}

  /** Verifies `token`, fetching the JWKS first when its `kid` is not known yet. */
  async verify(token: string, rules: VerifyRules, now = Date.now() / 1000): Promise<VerifiedToken> {
    const known = this.verifyKnown(token, rules, now);
    if (known !== null) return known;
    const kid = this.kidOf(token);
    if (!(await this.jwks.get(kid))) throw new TokenError('AUTH_TOKEN_INVALID', 'unknown kid');
    return this.verifyKnown(token, rules, now) ?? fail('unknown kid');
  }

  /**
   * The synchronous path, for a token whose key is already in the JWKS cache
   * (all of them but the first after a rotation): the verdict, or null when
   * the key must be fetched first.
   */
  verifyKnown(token: string, rules: VerifyRules, now = Date.now() / 1000): VerifiedToken | null {
    const d1 = token.indexOf('.');
    const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
    if (d2 < 0 || token.indexOf('.', d2 + 1) >= 0) fail('not a compact JWS');
    const kid = this.kids.get(token.slice(0, d1)) ?? this.headerKid(token.slice(0, d1));
    const key = this.jwks.peek(kid);
    if (!key) return null;
    // node's base64url decoder also takes `+` and `/` (and skips what is in neither alphabet):
    // one spelling only, or a token would have several that all verify.
    const sigChars = token.length - d2 - 1;
    if (sigChars !== key.signatureChars || !isBase64url(token, d2 + 1)) fail('malformed signature');
    // The last character's low bits are padding the decoder drops: only zeros, or
    // 2^(spare bits) spellings of one signature would each verify.
    const spare = sigChars * 6 - key.signatureBytes * 8;
    if ((sextet(token.charCodeAt(token.length - 1)) & ((1 << spare) - 1)) !== 0)
      fail('malformed signature');
    const sigBytes = this.signature.write(token.slice(d2 + 1), 0, 'base64url');
    if (sigBytes !== key.signatureBytes) fail('malformed signature');
    const signed =
      d2 <= this.scratch.length
        ? this.scratch.subarray(0, this.scratch.write(token, 0, d2, 'latin1'))
        : Buffer.from(token.slice(0, d2), 'latin1');
    if (!verifySignature('sha256', signed, key.key, this.signature.subarray(0, sigBytes)))
      fail('bad signature');
    // Signed, so the payload is the issuer's own text: decoded without a second alphabet check.
    return checkClaims(decodeJson(token.slice(d1 + 1, d2), false), rules, now);
  }

  private kidOf(token: string): string {
    const d1 = token.indexOf('.');
    return this.kids.get(token.slice(0, d1)) ?? this.headerKid(token.slice(0, d1));
  }

  private headerKid(segment: string): string {
    const header = decodeJson(segment);
    if (header.alg !== 'RS256') throw new TokenError('AUTH_TOKEN_INVALID', 'alg must be RS256');
    if (header.crit !== undefined)
      throw new TokenError('AUTH_TOKEN_INVALID', 'crit headers unsupported');
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256)
      throw new TokenError('AUTH_TOKEN_INVALID', 'kid missing');
    // Valid headers only, and few: forged ones with made-up kids must not grow this without end.
    if (this.kids.size >= 64) this.kids.clear();
    this.kids.set(segment, header.kid);
    return header.kid;
  }
}

export function checkClaims(
  claims: Record<string, unknown>,
  rules: VerifyRules,
  now: number,
): VerifiedToken {
  if (claims.iss !== rules.issuer) throw invalid('wrong issuer');
  const aud = claims.aud;
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience))))
    throw invalid('wrong audience');
  const { exp, iat, nbf } = claims;
  if (!isNumber(exp) || !isNumber(iat)) throw invalid('exp and iat are required');
  if (exp - iat > rules.maxLifetimeSeconds) throw invalid('lifetime too long');
  if (iat > now + rules.leewaySeconds) throw invalid('issued in the future');
  if (nbf !== undefined && (!isNumber(nbf) || nbf > now + rules.leewaySeconds))
    throw invalid('not yet valid');
  if (exp <= now - (rules.expiryLeewaySeconds ?? rules.leewaySeconds))
    throw new TokenError('AUTH_TOKEN_EXPIRED', 'expired');
  const { sub, username, roles, jti, sid, sua, client_id: clientId, scope } = claims;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid('sub is required');
  let oauthClient: string | null = null;
  let oauthScope: string | null = null;
  if (rules.oauth === true) {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 64)
      throw invalid('client_id is required');
    if (typeof scope !== 'string') throw invalid('scope is required');
    oauthClient = clientId;
    oauthScope = scope;
    // An app token acts for nobody: its subject is the application itself.
    if (username === undefined && sub !== clientId) throw invalid('username is required');
  } else if (typeof username !== 'string' || username.length === 0)
    throw invalid('username is required');
  if (username !== undefined && (typeof username !== 'string' || username.length === 0))
    throw invalid('username is required');
  if (roles !== undefined && !Array.isArray(roles)) throw invalid('roles must be a list');
  const known: Role[] = [];
  if (roles !== undefined)
    for (const r of roles as unknown[]) if (r === 'user' || r === 'admin') known.push(r);
  return {
    sub,
    username: typeof username === 'string' ? username : '',
    roles: known,
    jti: typeof jti === 'string' && jti.length > 0 ? jti : null,
    sid: typeof sid === 'string' && sid.length > 0 && sid.length <= 64 ? sid : null,
    sua: isNumber(sua) && Number.isInteger(sua) && sua >= 0 ? sua : null,
    iat,
    exp,
    aud: rules.audience,
    clientId: oauthClient,
    scope: oauthScope,
  };
}

/**
 * Characters of a token's end that key the cache: the last 256 bits of its
 * signature. A whole token (some 700 characters, a new string on every
 * request) would be hashed character by character on each lookup; the entry
 * still holds the whole token, and a hit must equal it.
 */
const KEY_CHARS = 43;

/**
 * Verified access tokens. (Hashing the token would cost more than the
 * lookup it guards, and keep nothing safer: this process holds the internal
 * secret, which asserts any identity, already.) Entries leave when their
 * token expires or, when full, oldest first: a hit does not reorder (that
 * would cost a delete and an insert on the hot path), and every entry is at
 * most 15 minutes old anyway.
 */
export class TokenCache {
  private readonly entries = new Map<string, { token: string; verified: VerifiedToken }>();

  constructor(
    private readonly capacity: number,
    private readonly leewaySeconds: number,
  ) {}

  get(token: string, now = Date.now() / 1000): VerifiedToken | undefined {
    const key = token.slice(-KEY_CHARS);
    const hit = this.entries.get(key);
    if (hit === undefined || hit.token !== token) return undefined;
    if (hit.verified.exp <= now - this.leewaySeconds) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.verified;
  }

  set(token: string, verified: VerifiedToken): void {
    if (this.capacity === 0) return;
    const key = token.slice(-KEY_CHARS);
    // Another token with the same tail (a forgery, or chance) takes the slot: the next lookup of either verifies anew.
    this.entries.delete(key);
    this.entries.set(key, { token, verified });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
