import { ACCESS_TOKEN_TTL_SECONDS } from '@neon/contracts';

/**
 * Users whose access tokens issued until a moment are no longer accepted: a
 * suspension takes effect at the gateway at once instead of when the user's
 * last 15-minute token runs out. An entry is kept for one token lifetime
 * plus the leeway; after that every token it could refuse has expired.
 */
export class Revocations {
  private readonly until = new Map<string, { issuedUntilMs: number; keepUntilMs: number }>();

  constructor(private readonly leewaySeconds: number) {}

  /** Refuses the user's tokens issued at or before `atMs`. */
  revoke(userId: string, atMs: number, now = Date.now()): void {
    const prior = this.until.get(userId);
    const issuedUntilMs = Math.max(prior?.issuedUntilMs ?? 0, atMs);
    this.until.set(userId, {
      issuedUntilMs,
      keepUntilMs: issuedUntilMs + (ACCESS_TOKEN_TTL_SECONDS + this.leewaySeconds) * 1000,
    });
    if (this.until.size > 1024) this.sweep(now);
  }

  /** True when this token (by its subject and `iat`) was issued before a revocation. */
  revoked(sub: string, iatSeconds: number): boolean {
    if (this.until.size === 0) return false;
    const entry = this.until.get(sub);
    return entry !== undefined && iatSeconds * 1000 <= entry.issuedUntilMs;
  }

  sweep(now = Date.now()): void {
    for (const [id, e] of this.until) if (e.keepUntilMs <= now) this.until.delete(id);
  }
}
