import type { SubscriptionStatus, SubscriptionTier } from '@neon/contracts';
import type { Queryable } from '@neon/db';
import type { SubscriptionFacts, SubscriptionView } from '../domain/subscription-state.js';
import type { SubscriptionLink } from '../webhooks/stripe-events.js';

export interface SubscriptionRow {
  id: string;
  provider: string;
  provider_ref: string;
  user_id: string;
  username: string;
  channel_id: string;
  channel: string;
  tier: SubscriptionTier;
  status: SubscriptionStatus;
  months: number;
  current_period_end: Date | null;
  cancel_at_period_end: boolean;
  facts: SubscriptionFacts;
  version: number;
}

export interface PaymentRow {
  provider: string;
  invoice_id: string;
  subscription_id: string;
  amount: string;
  currency: string;
  refunded: string;
}

const COLUMNS = `id, provider, provider_ref, user_id, username, channel_id, channel, tier, status, months,
  current_period_end, cancel_at_period_end, facts, version`;

/** SQL over subscriptions and the payments that paid them. */
export const SubscriptionRepository = {
  async lockByRef(q: Queryable, provider: string, ref: string): Promise<SubscriptionRow | null> {
    const rows = await q.query<SubscriptionRow>(
      `SELECT ${COLUMNS} FROM payments.subscriptions WHERE provider = $1 AND provider_ref = $2 FOR UPDATE`,
      [provider, ref],
    );
    return rows[0] ?? null;
  },

  async lockById(q: Queryable, id: string): Promise<SubscriptionRow | null> {
    const rows = await q.query<SubscriptionRow>(
      `SELECT ${COLUMNS} FROM payments.subscriptions WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ?? null;
  },

  /** Creates the row for a provider subscription; a concurrent creator's row wins. */
  async create(
    q: Queryable,
    row: {
      id: string;
      provider: string;
      ref: string;
      link: SubscriptionLink;
      facts: SubscriptionFacts;
    },
  ): Promise<void> {
    await q.query(
      `INSERT INTO payments.subscriptions
         (id, provider, provider_ref, user_id, username, channel_id, channel, tier, status, facts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)
       ON CONFLICT (provider, provider_ref) DO NOTHING`,
      [
        row.id,
        row.provider,
        row.ref,
        row.link.userId,
        row.link.username,
        row.link.channelId,
        row.link.channel,
        row.link.tier,
        JSON.stringify(row.facts),
      ],
    );
  },

  async save(
    q: Queryable,
    id: string,
    facts: SubscriptionFacts,
    view: SubscriptionView,
    version: number,
  ): Promise<void> {
    await q.query(
      `UPDATE payments.subscriptions SET facts = $2, status = $3, tier = $4, months = $5,
         current_period_end = $6, cancel_at_period_end = $7, version = $8, updated_at = now()
       WHERE id = $1`,
      [
        id,
        JSON.stringify(facts),
        view.status,
        view.tier,
        view.months,
        view.currentPeriodEnd === null ? null : new Date(view.currentPeriodEnd),
        view.cancelAtPeriodEnd,
        version,
      ],
    );
  },

  /** Records a paid invoice once; false when it was recorded already. */
  async recordPayment(
    q: Queryable,
    p: {
      provider: string;
      invoice: string;
      subscriptionId: string;
      chargeRef: string | null;
      amount: number;
      currency: string;
      paidAt: Date;
    },
  ): Promise<boolean> {
    const rows = await q.query(
      `INSERT INTO payments.payments (provider, invoice_id, subscription_id, charge_ref, amount, currency, paid_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider, invoice_id) DO NOTHING RETURNING invoice_id`,
      [p.provider, p.invoice, p.subscriptionId, p.chargeRef, p.amount, p.currency, p.paidAt],
    );
    return rows.length > 0;
  },

  async lockPayment(
    q: Queryable,
    provider: string,
    invoice: string | null,
    refs: readonly string[],
  ): Promise<PaymentRow | null> {
    const rows = await q.query<PaymentRow>(
      `SELECT provider, invoice_id, subscription_id, amount::text, currency, refunded::text
         FROM payments.payments
        WHERE provider = $1 AND (invoice_id = $2 OR charge_ref = ANY($3::text[]))
        ORDER BY paid_at LIMIT 1 FOR UPDATE`,
      [provider, invoice, [...refs]],
    );
    return rows[0] ?? null;
  },

  async setRefunded(
    q: Queryable,
    provider: string,
    invoice: string,
    refunded: number,
  ): Promise<void> {
    await q.query(
      `UPDATE payments.payments SET refunded = $3 WHERE provider = $1 AND invoice_id = $2`,
      [provider, invoice, refunded],
    );
  },

  async mine(q: Queryable, userId: string): Promise<SubscriptionRow[]> {
    return q.query<SubscriptionRow>(
      `SELECT ${COLUMNS} FROM payments.subscriptions WHERE user_id = $1 AND status <> 'pending'
        ORDER BY (status = 'expired'), updated_at DESC LIMIT 200`,
      [userId],
    );
  },

  async latestFor(
    q: Queryable,
    userId: string,
    channelId: string,
  ): Promise<SubscriptionRow | null> {
    const rows = await q.query<SubscriptionRow>(
      `SELECT ${COLUMNS} FROM payments.subscriptions WHERE user_id = $1 AND channel_id = $2
        ORDER BY (status IN ('active', 'past_due', 'canceled')) DESC, updated_at DESC LIMIT 1`,
      [userId, channelId],
    );
    return rows[0] ?? null;
  },

  /** Open subscriptions whose paid period (plus grace) ended before `before`: the clock may change them. */
  async dueForClock(q: Queryable, now: Date, graceMs: number): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      `SELECT id FROM payments.subscriptions
        WHERE (status = 'canceled' AND current_period_end <= $1)
           OR (status IN ('active', 'past_due') AND current_period_end <= $2)
        ORDER BY current_period_end LIMIT 500`,
      [now, new Date(now.getTime() - graceMs)],
    );
    return rows.map((r) => r.id);
  },

  async countByTier(q: Queryable, channelId: string): Promise<Record<SubscriptionTier, number>> {
    const rows = await q.query<{ tier: SubscriptionTier; n: number }>(
      `SELECT tier, count(*)::int AS n FROM payments.subscriptions
        WHERE channel_id = $1 AND status IN ('active', 'past_due', 'canceled') GROUP BY tier`,
      [channelId],
    );
    const out = { tier1: 0, tier2: 0, tier3: 0 };
    for (const r of rows) out[r.tier] = r.n;
    return out;
  },
};
