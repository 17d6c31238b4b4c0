import { ACCESS_TOKEN_TTL_SECONDS } from '@neon/contracts';

/**
 * Tokens the gateway refuses before they expire, from identity's events:
 *
 * - a suspension: the user's tokens issued until that moment;
 * - a change of platform roles: the user's tokens that carry other roles than
 *   the ones they hold now (a token minted after the change carries the new
 *   ones, so a refresh is all the user needs);
 * - an ended session (logout, password change, a replayed refresh token):
 *   the tokens whose `sid` names it.
 *
 * Either takes effect at once instead of when the last 15-minute token runs
 * out. An entry is kept for one token lifetime plus the leeway; after that
 * every token it could refuse has expired.
 */
export class Revocations {
  private readonly until = new Map<string, { issuedUntilMs: number; keepUntilMs: number }>();
  private readonly roles = new Map<string, { roles: string; keepUntilMs: number }>();
  /** Ended session ids, each to the moment after which no token of it can still be valid. */
  private readonly sessions = new Map<string, number>();
  private readonly lifetimeMs: number;

  constructor(leewaySeconds: number) {
    this.lifetimeMs = (ACCESS_TOKEN_TTL_SECONDS + leewaySeconds) * 1000;
  }

  /** Refuses the user's tokens issued at or before `atMs`. */
  revoke(userId: string, atMs: number, now = Date.now()): void {
    const prior = this.until.get(userId);
    const issuedUntilMs = Math.max(prior?.issuedUntilMs ?? 0, atMs);
    this.until.set(userId, { issuedUntilMs, keepUntilMs: issuedUntilMs + this.lifetimeMs });
    if (this.until.size > 1024) this.sweep(now);
  }

  /** From `atMs` the user holds `roles`: a token with any other roles is stale. Events come in order. */
  rolesChanged(userId: string, roles: readonly string[], atMs: number, now = Date.now()): void {
    this.roles.set(userId, { roles: roleKey(roles), keepUntilMs: atMs + this.lifetimeMs });
    if (this.roles.size > 1024) this.sweep(now);
  }

  /** The sessions ended at `atMs`: every token that names one is refused. */
  sessionsEnded(sessionIds: readonly string[], atMs: number, now = Date.now()): void {
    for (const id of sessionIds) this.sessions.set(id, Math.max(atMs, now) + this.lifetimeMs);
    if (this.sessions.size > 1024) this.sweep(now);
  }

  /** True when this token (by its subject, `iat`, roles and session) may no longer be used. */
  revoked(
    sub: string,
    iatSeconds: number,
    roles: readonly string[],
    sid: string | null = null,
  ): boolean {
    if (this.until.size === 0 && this.roles.size === 0 && this.sessions.size === 0) return false;
    if (sid !== null && this.sessions.has(sid)) return true;
    const entry = this.until.get(sub);
    if (entry !== undefined && iatSeconds * 1000 <= entry.issuedUntilMs) return true;
    const current = this.roles.get(sub);
    return current !== undefined && current.roles !== roleKey(roles);
  }

  sweep(now = Date.now()): void {
    for (const [id, e] of this.until) if (e.keepUntilMs <= now) this.until.delete(id);
    for (const [id, e] of this.roles) if (e.keepUntilMs <= now) this.roles.delete(id);
    for (const [id, keepUntilMs] of this.sessions) if (keepUntilMs <= now) this.sessions.delete(id);
  }
}

function roleKey(roles: readonly string[]): string {
  return [...roles].sort().join(' ');
}
