import type { AdminUser, AdminUserList, AuditList } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { AppError, type Client, type Logger } from '@neon/kit';
import { revokeUserFamilies } from '../auth/refresh-token.repository.js';
import { enqueue } from '../outbox/outbox.js';
import * as users from '../users/user.repository.js';
import type { UserRow } from '../users/user.repository.js';
import { adminView, rolesOf } from '../users/user-view.js';
import { listAudit, writeAudit } from './audit.repository.js';

/**
 * Tells the gateway and chat, in the transaction that changed them, the roles
 * a user holds now: what an earlier token or socket says is stale at once.
 */
export async function enqueueRolesChanged(q: Queryable, user: UserRow): Promise<void> {
  await enqueue(q, 'identity.roles.changed.v1', {
    userId: user.id,
    username: user.username,
    roles: rolesOf(user),
    changedAt: new Date().toISOString(),
  });
}

/** The admin API's rules; every change is written to the audit log in the same transaction. */
export class AdminService {
  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    /**
     * Publishes the outbox now and resolves once it is on the bus. A role
     * change or suspension is answered only after that, so the gateway and
     * chat stop honouring the old roles before the admin hears it is done
     * (the relay's next tick would leave a window of up to a second).
     */
    private readonly publish: () => Promise<void> = async () => undefined,
  ) {}

  /** The change is committed either way; a bus outage leaves the event to the relay's retries. */
  private async published(): Promise<void> {
    try {
      await this.publish();
    } catch (err) {
      this.logger.error({ err }, 'admin change committed but its event is not published yet');
    }
  }

  async list(options: {
    q?: string | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }): Promise<AdminUserList> {
    const limit = options.limit ?? 50;
    const rows = await users.listUsers(this.db, {
      search: options.q?.trim() || undefined,
      before: options.cursor,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(adminView),
      nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }

  async assertAdmin(actor: Client): Promise<void> {
    const user = await users.findById(this.db, actor.id);
    if (!user?.is_admin || user.suspended_at) {
      throw new AppError('FORBIDDEN', 'Requires the admin role.');
    }
  }

  /** `actor`: null for the operator at the command line (`grant-admin`). */
  async setAdmin(actor: Client | null, targetId: string, admin: boolean): Promise<AdminUser> {
    if (!admin && actor?.id === targetId) {
      throw new AppError('ADMIN_SELF_ACTION', 'Admins cannot revoke their own admin role.');
    }
    const user = await this.db.tx(async (q) => {
      const before = await users.findById(q, targetId);
      if (!before) return null;
      const after = await users.setAdmin(q, targetId, admin);
      if (after && before.is_admin !== admin) {
        await enqueueRolesChanged(q, after);
        await writeAudit(q, {
          actor,
          action: admin ? 'admin.granted' : 'admin.revoked',
          target: { id: before.id, username: before.username },
        });
      }
      return after;
    });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    await this.published();
    return adminView(user);
  }

  /**
   * Suspension ends every session at once, and the gateway refuses the
   * access tokens issued before it (`identity.user.suspended.v1`).
   */
  async setSuspended(
    actor: Client,
    targetId: string,
    suspension: { reason: string | null } | null,
  ): Promise<AdminUser> {
    if (actor.id === targetId) {
      throw new AppError('ADMIN_SELF_ACTION', 'Admins cannot suspend or unsuspend themselves.');
    }
    const user = await this.db.tx(async (q) => {
      const before = await users.findById(q, targetId);
      if (!before) return null;
      const after = await users.setSuspension(q, targetId, suspension);
      let revoked = 0;
      if (suspension) revoked = await revokeUserFamilies(q, targetId, 'suspended');
      if (after && suspension && after.suspended_at)
        await enqueue(q, 'identity.user.suspended.v1', {
          userId: after.id,
          username: after.username,
          suspendedAt: after.suspended_at.toISOString(),
        });
      else if (after && !suspension && before.suspended_at !== null)
        await enqueue(q, 'identity.user.unsuspended.v1', {
          userId: after.id,
          username: after.username,
        });
      if ((before.suspended_at !== null) !== (suspension !== null) || suspension) {
        await writeAudit(q, {
          actor,
          action: suspension ? 'user.suspended' : 'user.unsuspended',
          target: { id: before.id, username: before.username },
          detail: suspension ? { reason: suspension.reason, sessionsRevoked: revoked } : {},
        });
      }
      return after;
    });
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    await this.published();
    this.logger.info(
      { actor: actor.id, target: targetId, suspended: suspension !== null },
      'suspension changed',
    );
    return adminView(user);
  }

  async audit(options: {
    targetId?: string | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }): Promise<AuditList> {
    const limit = options.limit ?? 50;
    const rows = await listAudit(this.db, { ...options, before: options.cursor, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      items: page,
      nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }
}
