import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { PUBLIC_API_AUDIENCE, type Role } from '@neon/contracts';
import { SignJWT } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';

/** Who an OAuth access token acts for: a user through a grant, or the application itself. */
export type TokenParty =
  | { kind: 'user'; userId: string; username: string; roles: Role[]; grantId: string }
  | { kind: 'app'; clientId: string };

/**
 * OAuth access tokens as JWTs (RFC 9068): signed by the same key ring as the
 * first-party tokens, so the gateway verifies them with the same JWKS and code,
 * but with their own audience (`neon-public-api`), accepted on `/public/v1` only.
 * `sid` is the grant (or, for an app token, the client id): revoking either
 * makes the gateway refuse the token at once.
 */
export class OAuthTokenSigner {
  constructor(
    private readonly ring: KeyRing,
    private readonly issuer: string,
    readonly ttlSeconds: number,
  ) {}

  async sign(party: TokenParty, clientId: string, scopes: readonly string[]): Promise<string> {
    const key = await this.ring.signer();
    const iat = Math.floor(Date.now() / 1000);
    const claims =
      party.kind === 'user'
        ? {
            client_id: clientId,
            scope: scopes.join(' '),
            username: party.username,
            roles: party.roles,
            sid: party.grantId,
          }
        : { client_id: clientId, scope: '', sid: clientId };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(PUBLIC_API_AUDIENCE)
      .setSubject(party.kind === 'user' ? party.userId : clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }
}

/** 256 random bits, base64url: codes, refresh tokens and client secrets. */
export function opaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Client ids: 120 random bits in 20 base64url characters. */
export function newClientId(): string {
  return randomBytes(15).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Whether `secret` hashes to `hash` (a client secret against its stored SHA-256), in constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  const x = Buffer.from(sha256(secret));
  const y = Buffer.from(hash);
  return x.length === y.length && timingSafeEqual(x, y);
}
