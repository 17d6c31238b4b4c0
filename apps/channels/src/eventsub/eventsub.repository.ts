import { randomUUID } from 'node:crypto';
import type { Db, Queryable, SqlValue } from '@neon/db';
import type { EventSubMessageType, EventSubStatus, EventSubType } from '@neon/contracts';
import type { Cursor } from '../channels/channel.repository.js';

export interface SubscriptionRow {
  id: string;
  client_id: string;
  type: EventSubType;
  version: string;
  broadcaster_user_id: string;
  callback: string;
  secret: string;
  status: EventSubStatus;
  created_by: string | null;
  created_at: Date;
  /** `created_at` as PostgreSQL wrote it, for a cursor. */
  raw: string;
}

/** A subscription with what the developer console shows of its delivery. */
export interface ConsoleSubscriptionRow extends Omit<SubscriptionRow, 'secret' | 'created_by'> {
  failing_since: Date | null;
  last_failure_at: Date | null;
  last_failure: string | null;
  /** Messages not yet taken by its callback. */
  waiting: number;
}

/** A message taken for sending, with the subscription it goes to. */
export interface ClaimedMessage {
  id: string;
  kind: EventSubMessageType;
  payload: Record<string, unknown>;
  /** This attempt's number: 1 for the first. */
  attempts: number;
  subscription: Omit<SubscriptionRow, 'raw' | 'created_by'>;
}

export interface NewSubscription {
  clientId: string;
  type: EventSubType;
  version: string;
  broadcasterUserId: string;
  callback: string;
  secret: string;
  createdBy: string | null;
}

/** Subscriptions that may still be sent to; a duplicate of one of these is refused. */
const LIVE_STATUSES = `('webhook_callback_verification_pending', 'enabled')`;

const ms = (n: number) => `($${n}::double precision * interval '1 millisecond')`;

const SUBSCRIPTION_COLUMNS = `id, client_id, type, version, broadcaster_user_id, callback, secret,
  status, created_by, created_at, created_at::text AS raw`;

/** SQL of EventSub: subscriptions, and the messages waiting to reach their callbacks. */
export class EventSubRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a subscription, pending, with its challenge queued. One app's
   * creations are serialised (an advisory lock) so the cap and the duplicate
   * rule hold under concurrent calls.
   */
  async create(
    s: NewSubscription,
    challenge: string,
    max: number,
  ): Promise<SubscriptionRow | 'exists' | 'limit'> {
    return this.db.tx(async (q) => {
      await q.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`eventsub:${s.clientId}`]);
      const [held] = await q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM channels.eventsub_subscriptions WHERE client_id = $1`,
        [s.clientId],
      );
      const same = await q.query(
        `SELECT 1 FROM channels.eventsub_subscriptions
          WHERE client_id = $1 AND type = $2 AND broadcaster_user_id = $3 AND callback = $4
            AND status IN ${LIVE_STATUSES}`,
        [s.clientId, s.type, s.broadcasterUserId, s.callback],
      );
      if (same.length > 0) return 'exists';
      if ((held?.n ?? 0) >= max) return 'limit';
      const [row] = await q.query<SubscriptionRow>(
        `INSERT INTO channels.eventsub_subscriptions
           (id, client_id, type, version, broadcaster_user_id, callback, secret, status, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'webhook_callback_verification_pending', $8)
         RETURNING ${SUBSCRIPTION_COLUMNS}`,
        [
          randomUUID(),
          s.clientId,
          s.type,
          s.version,
          s.broadcasterUserId,
          s.callback,
          s.secret,
          s.createdBy,
        ],
      );
      await q.query(
        `INSERT INTO channels.eventsub_messages (id, subscription_id, kind, payload)
         VALUES ($1, $2, 'webhook_callback_verification', $3)`,
        [randomUUID(), row!.id, JSON.stringify({ challenge })],
      );
      return row!;
    });
  }

  /** The app's subscriptions, oldest first, after the cursor. */
  async list(
    clientId: string,
    filter: { status?: EventSubStatus; type?: EventSubType },
    limit: number,
    after: Cursor | null,
  ): Promise<SubscriptionRow[]> {
    const params: SqlValue[] = [clientId, filter.status ?? null, filter.type ?? null, limit];
    let where = '';
    if (after) {
      params.push(after.at, after.id);
      where = `AND (created_at, id) > ($5::timestamptz, $6::uuid)`;
    }
    return this.db.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM channels.eventsub_subscriptions
        WHERE client_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR type = $3)
          ${where}
        ORDER BY created_at, id LIMIT $4`,
      params,
    );
  }

  async count(clientId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM channels.eventsub_subscriptions WHERE client_id = $1`,
      [clientId],
    );
    return row?.n ?? 0;
  }

  /** True when the app had that subscription; its waiting messages go with it. */
  async delete(clientId: string, id: string): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM channels.eventsub_subscriptions WHERE id = $1 AND client_id = $2 RETURNING id`,
      [id, clientId],
    );
    return rows.length > 0;
  }

  /** The app's subscriptions with their delivery facts, oldest first, after the cursor. */
  async listWithDelivery(
    clientId: string,
    limit: number,
    after: Cursor | null,
  ): Promise<ConsoleSubscriptionRow[]> {
    const params: SqlValue[] = [clientId, limit];
    let where = '';
    if (after) {
      params.push(after.at, after.id);
      where = `AND (s.created_at, s.id) > ($3::timestamptz, $4::uuid)`;
    }
    return this.db.query<ConsoleSubscriptionRow>(
      `SELECT s.id, s.client_id, s.type, s.version, s.broadcaster_user_id, s.callback, s.status,
              s.created_at, s.created_at::text AS raw, s.failing_since, s.last_failure_at,
              s.last_failure,
              (SELECT count(*)::int FROM channels.eventsub_messages m
                WHERE m.subscription_id = s.id) AS waiting
         FROM channels.eventsub_subscriptions s
        WHERE s.client_id = $1 ${where}
        ORDER BY s.created_at, s.id LIMIT $2`,
      params,
    );
  }

  /** Who owns the application, as identity announced it; null when unknown or deleted. */
  async ownerOf(clientId: string): Promise<string | null> {
    const [row] = await this.db.query<{ owner_id: string }>(
      `SELECT owner_id FROM channels.oauth_clients WHERE client_id = $1 AND deleted_at IS NULL`,
      [clientId],
    );
    return row?.owner_id ?? null;
  }

  /** identity.oauth_client.created.v1; a deleted app stays deleted, whatever is heard after. */
  static async clientCreated(q: Queryable, clientId: string, ownerId: string): Promise<void> {
    await q.query(
      `INSERT INTO channels.oauth_clients (client_id, owner_id) VALUES ($1, $2)
       ON CONFLICT (client_id) DO NOTHING`,
      [clientId, ownerId],
    );
  }

  /** identity.oauth_client.deleted.v1, even when its creation was never heard. */
  static async clientDeleted(
    q: Queryable,
    clientId: string,
    ownerId: string,
    deletedAt: Date,
  ): Promise<void> {
    await q.query(
      `INSERT INTO channels.oauth_clients (client_id, owner_id, deleted_at) VALUES ($1, $2, $3)
       ON CONFLICT (client_id) DO UPDATE SET deleted_at = COALESCE(oauth_clients.deleted_at, $3)`,
      [clientId, ownerId, deletedAt],
    );
  }

  async byId(id: string): Promise<SubscriptionRow | null> {
    const rows = await this.db.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM channels.eventsub_subscriptions WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  // ---- what is sent

  /**
   * Queues a notification of `event` to every enabled subscription of that
   * type and broadcaster, each under a message id fixed here. The number queued.
   */
  static async enqueue(
    q: Queryable,
    type: EventSubType,
    broadcasterUserId: string,
    event: object,
  ): Promise<number> {
    const rows = await q.query(
      `INSERT INTO channels.eventsub_messages (id, subscription_id, kind, payload)
       SELECT gen_random_uuid(), id, 'notification', $3
         FROM channels.eventsub_subscriptions
        WHERE type = $1 AND broadcaster_user_id = $2 AND status = 'enabled'
       RETURNING id`,
      [type, broadcasterUserId, JSON.stringify({ event })],
    );
    return rows.length;
  }

  /**
   * channel.follow subscriptions made by a moderator who no longer is one:
   * revoked (`authorization_revoked`), each told so. The number revoked.
   */
  static async revokeLapsedFollowers(q: Queryable, broadcasterUserId: string): Promise<number> {
    const lapsed = await q.query<{ id: string }>(
      `SELECT s.id FROM channels.eventsub_subscriptions s
        WHERE s.type = 'channel.follow' AND s.broadcaster_user_id = $1 AND s.status = 'enabled'
          AND s.created_by IS DISTINCT FROM s.broadcaster_user_id
          AND NOT EXISTS (SELECT 1 FROM channels.roles r
                           WHERE r.channel_id = s.broadcaster_user_id AND r.user_id = s.created_by
                             AND r.role = 'moderator')`,
      [broadcasterUserId],
    );
    for (const { id } of lapsed) await EventSubRepository.revoke(q, id, 'authorization_revoked');
    return lapsed.length;
  }

  /**
   * Subscriptions made with an authorization that has ended: the app's
   * (`userId` null: the app was deleted) or those a user's token made for it.
   * Only those made before the end: an app authorized again keeps what it made
   * since, whenever this is heard. Each is told (`authorization_revoked`).
   */
  static async revokeAuthorization(
    q: Queryable,
    clientId: string,
    userId: string | null,
    revokedAt: Date,
  ): Promise<number> {
    const ended = await q.query<{ id: string }>(
      `SELECT id FROM channels.eventsub_subscriptions
        WHERE client_id = $1 AND ($2::text IS NULL OR created_by = $2::text) AND created_at <= $3
          AND status IN ('webhook_callback_verification_pending', 'enabled')
        FOR UPDATE`,
      [clientId, userId, revokedAt],
    );
    for (const { id } of ended) await EventSubRepository.revoke(q, id, 'authorization_revoked');
    return ended.length;
  }

  /** Stops a subscription's notifications and queues the revocation message that says why. */
  static async revoke(
    q: Queryable,
    subscriptionId: string,
    status: 'notification_failures_exceeded' | 'authorization_revoked',
  ): Promise<void> {
    await q.query(`UPDATE channels.eventsub_subscriptions SET status = $2 WHERE id = $1`, [
      subscriptionId,
      status,
    ]);
    await q.query(
      `DELETE FROM channels.eventsub_messages WHERE subscription_id = $1 AND kind = 'notification'`,
      [subscriptionId],
    );
    await q.query(
      `INSERT INTO channels.eventsub_messages (id, subscription_id, kind, payload)
       VALUES (gen_random_uuid(), $1, 'revocation', '{}')`,
      [subscriptionId],
    );
  }

  /**
   * Takes up to `limit` messages that are due, for this replica alone: SKIP
   * LOCKED keeps two claims from taking the same row, and the claim moves the
   * message's due time `leaseMs` ahead, so no other replica takes it while it
   * is sent, and it is taken again should this one die before it is settled.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedMessage[]> {
    const rows = await this.db.query<{
      id: string;
      kind: EventSubMessageType;
      payload: Record<string, unknown>;
      attempts: number;
      subscription_id: string;
      client_id: string;
      type: EventSubType;
      version: string;
      broadcaster_user_id: string;
      callback: string;
      secret: string;
      status: EventSubStatus;
      subscription_created_at: Date;
    }>(
      `WITH due AS (
         SELECT id FROM channels.eventsub_messages WHERE due_at <= now()
          ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE channels.eventsub_messages m
            SET due_at = now() + ${ms(2)}, attempts = m.attempts + 1
           FROM due WHERE m.id = due.id
         RETURNING m.id, m.subscription_id, m.kind, m.payload, m.attempts
       )
       SELECT c.id, c.kind, c.payload, c.attempts, c.subscription_id, s.client_id, s.type,
              s.version, s.broadcaster_user_id, s.callback, s.secret, s.status,
              s.created_at AS subscription_created_at
         FROM claimed c JOIN channels.eventsub_subscriptions s ON s.id = c.subscription_id`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      payload: r.payload,
      attempts: r.attempts,
      subscription: {
        id: r.subscription_id,
        client_id: r.client_id,
        type: r.type,
        version: r.version,
        broadcaster_user_id: r.broadcaster_user_id,
        callback: r.callback,
        secret: r.secret,
        status: r.status,
        created_at: r.subscription_created_at,
      },
    }));
  }

  /** A message with nothing left to do (sent, or no longer wanted). */
  async drop(messageId: string): Promise<void> {
    await this.db.query(`DELETE FROM channels.eventsub_messages WHERE id = $1`, [messageId]);
  }

  /** The callback echoed the challenge: the subscription is enabled. */
  async verified(m: ClaimedMessage): Promise<void> {
    await this.db.tx(async (q) => {
      await EventSubRepository.lockSubscriptions(q, [m.subscription.id]);
      await q.query(`DELETE FROM channels.eventsub_messages WHERE id = $1`, [m.id]);
      await q.query(
        `UPDATE channels.eventsub_subscriptions SET status = 'enabled'
          WHERE id = $1 AND status = 'webhook_callback_verification_pending'`,
        [m.subscription.id],
      );
    });
  }

  /**
   * Callbacks took these notifications or revocations: they are done, and
   * their callbacks count as answering. One statement for the lot: settling
   * each in a transaction of its own cost more than sending it.
   */
  async delivered(messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    // The subscription row is written only when it was failing, so busy ones are not rewritten
    // (and locked) on every message; those that are failing are locked before their messages.
    await this.db.tx(async (q) => {
      await q.query(
        `SELECT id FROM channels.eventsub_subscriptions
          WHERE failing_since IS NOT NULL AND id IN (
            SELECT subscription_id FROM channels.eventsub_messages WHERE id = ANY($1::uuid[]))
          ORDER BY id FOR NO KEY UPDATE`,
        [[...messageIds]],
      );
      await q.query(
        `WITH gone AS (
           DELETE FROM channels.eventsub_messages WHERE id = ANY($1::uuid[])
           RETURNING subscription_id
         )
         UPDATE channels.eventsub_subscriptions SET failing_since = NULL
          WHERE id IN (SELECT subscription_id FROM gone) AND failing_since IS NOT NULL`,
        [[...messageIds]],
      );
    });
  }

  /**
   * Every transaction that writes a subscription and its messages takes the
   * subscription first, as deleting it does (the row, then its messages by
   * cascade): a worker settling a message while its owner deletes the
   * subscription then waits instead of deadlocking, which PostgreSQL would
   * end by failing one of them.
   */
  private static async lockSubscriptions(q: Queryable, ids: readonly string[]): Promise<void> {
    await q.query(
      `SELECT id FROM channels.eventsub_subscriptions WHERE id = ANY($1::uuid[])
        ORDER BY id FOR NO KEY UPDATE`,
      [[...ids]],
    );
  }

  /** The challenge was not echoed (`reason` says what came instead): nothing will ever be sent to this subscription. */
  async verificationFailed(m: ClaimedMessage, reason: string): Promise<void> {
    await this.db.tx(async (q) => {
      await EventSubRepository.lockSubscriptions(q, [m.subscription.id]);
      await q.query(`DELETE FROM channels.eventsub_messages WHERE id = $1`, [m.id]);
      await q.query(
        `UPDATE channels.eventsub_subscriptions SET status = 'webhook_callback_verification_failed',
                last_failure_at = now(), last_failure = $2
          WHERE id = $1 AND status = 'webhook_callback_verification_pending'`,
        [m.subscription.id, reason.slice(0, 500)],
      );
    });
  }

  /**
   * A notification or revocation failed. A notification's subscription is
   * revoked once its callback has answered nothing for `windowMs`; otherwise
   * the message waits `retryMs` for its next attempt, or is dropped once it is
   * `windowMs` old.
   */
  async failed(
    m: ClaimedMessage,
    retryMs: number,
    windowMs: number,
    error: string,
  ): Promise<'retry' | 'dropped' | 'revoked'> {
    return this.db.tx(async (q) => {
      if (m.kind === 'notification') {
        // Revoked once it has failed for the whole window, or when a message is given up that
        // it has failed ever since its first attempt at it: that message was made before the
        // first failure, so it reaches the window's age first, and dropping it alone would leave
        // a quiet subscription nothing to ever be revoked on.
        const [s] = await q.query<{ status: EventSubStatus; exceeded: boolean }>(
          `UPDATE channels.eventsub_subscriptions s SET failing_since = COALESCE(failing_since, now()),
                  last_failure_at = now(), last_failure = $4
            WHERE id = $1
           RETURNING status,
             failing_since <= now() - ${ms(2)} OR EXISTS (
               SELECT 1 FROM channels.eventsub_messages m
                WHERE m.id = $3 AND m.created_at <= now() - ${ms(2)}
                  AND m.first_failed_at IS NOT NULL AND s.failing_since <= m.first_failed_at
             ) AS exceeded`,
          [m.subscription.id, windowMs, m.id, error.slice(0, 500)],
        );
        if (s?.status === 'enabled' && s.exceeded) {
          await EventSubRepository.revoke(q, m.subscription.id, 'notification_failures_exceeded');
          return 'revoked';
        }
      } else {
        await q.query(
          `UPDATE channels.eventsub_subscriptions SET last_failure_at = now(), last_failure = $2
            WHERE id = $1`,
          [m.subscription.id, error.slice(0, 500)],
        );
      }
      const old = await q.query(
        `DELETE FROM channels.eventsub_messages WHERE id = $1 AND created_at <= now() - ${ms(2)}
         RETURNING id`,
        [m.id, windowMs],
      );
      if (old.length > 0) return 'dropped';
      await q.query(
        `UPDATE channels.eventsub_messages SET due_at = now() + ${ms(2)}, last_error = $3,
                first_failed_at = COALESCE(first_failed_at, now())
          WHERE id = $1`,
        [m.id, retryMs, error.slice(0, 500)],
      );
      return 'retry';
    });
  }

  /** Messages this replica took but did not send (it is closing): due again at once. */
  async release(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE channels.eventsub_messages SET due_at = now(), attempts = GREATEST(attempts - 1, 0)
        WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }

  /** Messages waiting, sent or being sent. */
  async depth(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM channels.eventsub_messages`,
    );
    return row?.n ?? 0;
  }
}
