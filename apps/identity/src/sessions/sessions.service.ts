import type { SessionList } from '@neon/contracts';
import type { Db } from '@neon/db';
import { AppError, type Client, type Logger } from '@neon/kit';
import { enqueueSessionsEnded } from '../auth/auth.service.js';
import * as refresh from '../auth/refresh-token.repository.js';
import { describeDevice } from '../domain/user-agent.js';

export interface SessionsDeps {
  db: Db;
  logger: Logger;
  /** Publishes the outbox and resolves once it is on the bus (as logout does). */
  publishNow: () => Promise<void>;
}

/**
 * "Your sessions": the caller's signed-in devices, and signing some of them
 * out. Ending one is logout's path: the family is revoked and
 * `identity.session.revoked.v1` (reason `logout`) reaches the bus before the
 * answer, so the gateway refuses its access tokens and chat closes its sockets.
 */
export class SessionsService {
  constructor(private readonly deps: SessionsDeps) {}

  async list(caller: Client): Promise<SessionList> {
    const rows = await refresh.liveFamilies(this.deps.db, caller.id);
    return {
      items: rows.map((r) => ({
        id: r.id,
        device: describeDevice(r.user_agent),
        createdAt: r.created_at.toISOString(),
        lastUsedAt: r.last_used_at.toISOString(),
        current: r.id === caller.sessionId,
      })),
    };
  }

  /** Ends one of the caller's sessions; another user's, an ended one or an unknown id: not found. */
  async revoke(caller: Client, sessionId: string): Promise<void> {
    const ended = await this.deps.db.tx(async (q) => {
      const family = await refresh.familyOfUser(q, sessionId, caller.id);
      if (!family || !(await refresh.revokeFamily(q, family.family_id, 'logout'))) return false;
      await enqueueSessionsEnded(q, caller.id, [family.family_id], 'logout');
      return true;
    });
    if (!ended) throw new AppError('AUTH_SESSION_NOT_FOUND', 'No such session of yours.');
    await this.announce();
  }

  /** Ends every session of the caller but the one asking; how many it ended. */
  async revokeOthers(caller: Client): Promise<number> {
    // Without its own session id the caller would end itself too: refuse instead.
    if (!caller.sessionId)
      throw new AppError('FORBIDDEN', 'This needs a signed-in session, not a bare token.');
    const keep = caller.sessionId;
    const ids = await this.deps.db.tx(async (q) => {
      const ended = await refresh.endUserFamilies(q, caller.id, 'logout', keep);
      if (ended.length > 0) await enqueueSessionsEnded(q, caller.id, ended, 'logout');
      return ended;
    });
    if (ids.length > 0) await this.announce();
    this.deps.logger.info({ userId: caller.id, revoked: ids.length }, 'other sessions signed out');
    return ids.length;
  }

  private async announce(): Promise<void> {
    try {
      await this.deps.publishNow();
    } catch (err) {
      this.deps.logger.error({ err }, 'ended sessions not announced yet; the outbox will retry');
    }
  }
}
