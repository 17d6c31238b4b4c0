import type { Queryable } from '@neon/db';

export interface StoredEvent {
  provider: string;
  event_id: string;
  type: string;
  body: string;
  attempts: number;
}

/** SQL over the stored provider events. */
export const WebhookRepository = {
  /** Stores a verified event once; false when its id was stored already (a redelivery). */
  async store(
    q: Queryable,
    e: { provider: string; eventId: string; type: string; body: string; createdAt: Date },
  ): Promise<boolean> {
    const rows = await q.query(
      `INSERT INTO payments.webhook_events (provider, event_id, type, body, provider_created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, event_id) DO NOTHING RETURNING event_id`,
      [e.provider, e.eventId, e.type, e.body, e.createdAt],
    );
    return rows.length > 0;
  },

  /** Locks the next due event (in the provider's order), skipping ones another worker holds and `skip`. */
  async claimNext(q: Queryable, now: Date, skip: readonly string[]): Promise<StoredEvent | null> {
    const rows = await q.query<StoredEvent>(
      `SELECT provider, event_id, type, body, attempts FROM payments.webhook_events
        WHERE state = 'pending' AND next_attempt_at <= $1 AND NOT (event_id = ANY($2::text[]))
        ORDER BY provider_created_at, received_at, event_id
        LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now, [...skip]],
    );
    return rows[0] ?? null;
  },

  async finish(
    q: Queryable,
    provider: string,
    eventId: string,
    state: 'processed' | 'ignored',
    reason: string | null,
  ): Promise<void> {
    await q.query(
      `UPDATE payments.webhook_events SET state = $3, reason = $4, processed_at = now(), attempts = attempts + 1
        WHERE provider = $1 AND event_id = $2`,
      [provider, eventId, state, reason],
    );
  },

  /** A failed try: again after `retryAt`, or parked once out of tries. */
  async failed(
    q: Queryable,
    provider: string,
    eventId: string,
    reason: string,
    retryAt: Date,
    maxAttempts: number,
  ): Promise<void> {
    await q.query(
      `UPDATE payments.webhook_events
          SET attempts = attempts + 1, reason = $3, next_attempt_at = $4,
              state = CASE WHEN attempts + 1 >= $5 THEN 'parked' ELSE state END
        WHERE provider = $1 AND event_id = $2 AND state = 'pending'`,
      [provider, eventId, reason.slice(0, 500), retryAt, maxAttempts],
    );
  },

  /** After a change, events waiting for it (a refund before its payment) are due again now. */
  async wakeWaiting(q: Queryable, provider: string, now: Date): Promise<void> {
    await q.query(
      `UPDATE payments.webhook_events SET next_attempt_at = $2
        WHERE provider = $1 AND state = 'pending' AND attempts > 0 AND next_attempt_at > $2`,
      [provider, now],
    );
  },

  async parked(
    q: Queryable,
    limit: number,
  ): Promise<
    { provider: string; event_id: string; type: string; reason: string | null; received_at: Date }[]
  > {
    return q.query(
      `SELECT provider, event_id, type, reason, received_at FROM payments.webhook_events
        WHERE state = 'parked' ORDER BY received_at DESC LIMIT $1`,
      [limit],
    );
  },

  async counts(q: Queryable): Promise<Record<string, number>> {
    const rows = await q.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM payments.webhook_events GROUP BY state`,
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  },
};
