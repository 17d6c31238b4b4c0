import { randomUUID } from 'node:crypto';
import {
  API_AUDIENCE,
  SOCKET_AUDIENCE,
  SOCKET_TICKET_TTL_SECONDS,
  type Role,
} from '@neon/contracts';
import { SignJWT } from 'jose';
import type { KeyRing } from './key-ring.js';

export interface TokenSubject {
  id: string;
  username: string;
  roles: Role[];
  /** The session (refresh family) the token belongs to: ending the session refuses it. */
  sessionId?: string | undefined;
  /** Only when the account has a second factor: the session's last check of it (`sua`, 0 = none). */
  stepUpAt?: number | undefined;
}

/** Signs access tokens and socket tickets with the ring's current key. */
export class TokenIssuer {
  constructor(
    private readonly ring: KeyRing,
    private readonly issuer: string,
    readonly accessTtlSeconds: number,
  ) {}

  private async sign(subject: TokenSubject, audience: string, ttl: number): Promise<string> {
    const key = await this.ring.signer();
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      username: subject.username,
      roles: subject.roles,
      ...(subject.sessionId ? { sid: subject.sessionId } : {}),
      ...(subject.stepUpAt !== undefined ? { sua: subject.stepUpAt } : {}),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setSubject(subject.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  accessToken(subject: TokenSubject): Promise<string> {
    return this.sign(subject, API_AUDIENCE, this.accessTtlSeconds);
  }

  /** 60 s, audience `socket`; the gateway consumes its jti so it works once. */
  socketTicket(subject: TokenSubject): Promise<string> {
    return this.sign(subject, SOCKET_AUDIENCE, SOCKET_TICKET_TTL_SECONDS);
  }
}
