import { ACCESS_TOKEN_TTL_SECONDS } from '@neon/contracts';
import type { Client } from '@neon/kit';

/**
 * What identity last said about a user (their roles now, or a suspension),
 * remembered long enough to outlive every ticket and token issued before it.
 *
 * Ending the sockets open when the event arrives is not enough: the gateway
 * may have accepted a ticket minted before the change a moment before it
 * heard of it, and that socket reaches chat after the event. So a socket is
 * checked against this on arrival and again before every moderation action,
 * synchronously, and refused when it speaks for an identity that no longer
 * holds.
 */
export class CurrentRoles {
  private readonly entries = new Map<string, { roles: string | null; keepUntilMs: number }>();
  private readonly keepMs: number;

  constructor(leewaySeconds = 60) {
    this.keepMs = (ACCESS_TOKEN_TTL_SECONDS + leewaySeconds) * 1000;
  }

  /** From now the user holds `roles`; a socket opened with others is stale. Events come in order. */
  changed(userId: string, roles: readonly string[], now = Date.now()): void {
    this.set(userId, roleKey(roles), now);
  }

  /** The user is suspended: every socket they open is stale until they are unsuspended. */
  suspended(userId: string, now = Date.now()): void {
    this.set(userId, null, now);
  }

  unsuspended(userId: string): void {
    const entry = this.entries.get(userId);
    if (entry?.roles === null) this.entries.delete(userId);
  }

  /** True when the socket's client speaks with roles, or for an account, that no longer hold. */
  stale(client: Client | null, now = Date.now()): boolean {
    if (!client || this.entries.size === 0) return false;
    const entry = this.entries.get(client.id);
    if (!entry) return false;
    if (entry.keepUntilMs <= now) {
      this.entries.delete(client.id);
      return false;
    }
    return entry.roles === null || entry.roles !== roleKey(client.roles);
  }

  private set(userId: string, roles: string | null, now: number): void {
    this.entries.set(userId, { roles, keepUntilMs: now + this.keepMs });
    if (this.entries.size > 1024) {
      for (const [id, e] of this.entries) if (e.keepUntilMs <= now) this.entries.delete(id);
    }
  }
}

function roleKey(roles: readonly string[]): string {
  return [...roles].sort().join(' ');
}
