import { enqueueEvent } from '@neon/bus';
import type { EventData, EventType } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { uuidv7 } from '@neon/kit';
import {
  initialFacts,
  isEntitled,
  transition,
  type SubscriptionChange,
  type SubscriptionFact,
  type SubscriptionView,
} from '../domain/subscription-state.js';
import { splitRevenue } from '../domain/tiers.js';
import { accounts, postTransaction } from '../ledger/ledger.repository.js';
import type { ProviderUpdate } from '../webhooks/stripe-events.js';
import { SubscriptionRepository as repo, type SubscriptionRow } from './subscription.repository.js';

export interface SubscriptionRules {
  graceMs: number;
  platformShareBps: number;
}

/** Why an event could not be applied yet: retried, then parked for admins. */
export class UnmatchedEvent extends Error {
  override readonly name = 'UnmatchedEvent';
}

const EVENT_TYPES: Record<SubscriptionChange, EventType> = {
  activated: 'payments.subscription.activated.v1',
  renewed: 'payments.subscription.renewed.v1',
  canceled: 'payments.subscription.canceled.v1',
  expired: 'payments.subscription.expired.v1',
};

function storedView(row: SubscriptionRow): SubscriptionView {
  return {
    status: row.status,
    tier: row.tier,
    months: row.months,
    currentPeriodStart: null,
    currentPeriodEnd: row.current_period_end ? new Date(row.current_period_end).getTime() : null,
    cancelAtPeriodEnd: row.cancel_at_period_end,
  };
}

function sameView(a: SubscriptionView, b: SubscriptionView): boolean {
  return (
    a.status === b.status &&
    a.tier === b.tier &&
    a.months === b.months &&
    a.currentPeriodEnd === b.currentPeriodEnd &&
    a.cancelAtPeriodEnd === b.cancelAtPeriodEnd
  );
}

/**
 * Applies what providers report to subscriptions, the ledger and the outbox,
 * inside the caller's transaction: all of an event's effects commit together
 * or not at all.
 */
export class SubscriptionService {
  constructor(
    private readonly rules: SubscriptionRules,
    private readonly clock: () => number,
  ) {}

  async apply(q: Queryable, provider: string, update: ProviderUpdate): Promise<void> {
    if (update.kind === 'ignored') return;
    if (update.kind === 'reversal') return this.reverse(q, provider, update);
    let row = await repo.lockByRef(q, provider, update.ref);
    if (!row) {
      if (!update.link)
        throw new UnmatchedEvent(
          `no subscription ${update.ref} is known and the event names no user and channel`,
        );
      await repo.create(q, {
        id: uuidv7(),
        provider,
        ref: update.ref,
        link: update.link,
        facts: initialFacts(update.link.tier, 0),
      });
      row = await repo.lockByRef(q, provider, update.ref);
      if (!row) throw new Error('the subscription row vanished after its insert');
    }
    if (update.payment) {
      const p = update.payment;
      const paidAt = new Date(this.clock());
      const first = await repo.recordPayment(q, {
        provider,
        invoice: p.invoice,
        subscriptionId: row.id,
        chargeRef: p.chargeRef,
        amount: p.amount,
        currency: p.currency,
        paidAt,
      });
      if (first) {
        const split = splitRevenue(p.amount, this.rules.platformShareBps);
        await postTransaction(q, {
          key: `payment:${provider}:${p.invoice}`,
          kind: 'payment',
          channelId: row.channel_id,
          subscriptionId: row.id,
          currency: p.currency,
          lines: [
            { account: accounts.provider(provider), amount: p.amount },
            { account: accounts.platformRevenue, amount: -split.platform },
            { account: accounts.streamer(row.channel_id), amount: -split.streamer },
          ],
        });
      }
    }
    await this.step(q, row, update.facts);
  }

  private async reverse(
    q: Queryable,
    provider: string,
    r: Extract<ProviderUpdate, { kind: 'reversal' }>,
  ): Promise<void> {
    const payment = await repo.lockPayment(q, provider, r.invoice, r.refs);
    if (!payment) throw new UnmatchedEvent(`no payment matches ${r.reason} ${r.key}`);
    const already = Number(payment.refunded);
    const amount = Number(payment.amount);
    // Refund totals are cumulative: take back only what is new, never more than was paid.
    const delta = Math.min(r.reason === 'refund' ? r.amount - already : r.amount, amount - already);
    const sub = await repo.lockById(q, payment.subscription_id);
    if (!sub) throw new Error(`payment ${payment.invoice_id} names a missing subscription`);
    if (delta > 0) {
      const split = splitRevenue(delta, this.rules.platformShareBps);
      const posted = await postTransaction(q, {
        key: r.key,
        kind: r.reason,
        channelId: sub.channel_id,
        subscriptionId: sub.id,
        currency: payment.currency,
        lines: [
          { account: accounts.provider(provider), amount: -delta },
          { account: accounts.platformRevenue, amount: split.platform },
          { account: accounts.streamer(sub.channel_id), amount: split.streamer },
        ],
      });
      if (posted) await repo.setRefunded(q, provider, payment.invoice_id, already + delta);
    }
    await this.step(q, sub, [{ kind: 'revoked', at: r.at, reason: r.reason }]);
  }

  /** The clock's changes to one subscription (a period ran out). */
  async tick(q: Queryable, id: string): Promise<void> {
    const row = await repo.lockById(q, id);
    if (row) await this.step(q, row, []);
  }

  private async step(
    q: Queryable,
    row: SubscriptionRow,
    facts: readonly SubscriptionFact[],
  ): Promise<void> {
    const before = storedView(row);
    const next = transition(row.facts, facts, this.clock(), this.rules.graceMs, before);
    const viewChanged = !sameView(before, next.view);
    if (!viewChanged && JSON.stringify(next.facts) === JSON.stringify(row.facts)) return;
    const version = viewChanged ? row.version + 1 : row.version;
    await repo.save(q, row.id, next.facts, next.view, version);
    for (const change of next.changes) {
      const data: EventData<'payments.subscription.activated.v1'> = {
        subscriptionId: row.id,
        userId: row.user_id,
        username: row.username,
        channel: row.channel,
        channelId: row.channel_id,
        tier: next.view.tier,
        status: next.view.status,
        entitled: isEntitled(next.view.status),
        months: next.view.months,
        currentPeriodEnd:
          next.view.currentPeriodEnd === null
            ? null
            : new Date(next.view.currentPeriodEnd).toISOString(),
        cancelAtPeriodEnd: next.view.cancelAtPeriodEnd,
        version,
      };
      await enqueueEvent(q, 'payments', EVENT_TYPES[change], data);
    }
  }
}

/** Runs the clock over subscriptions whose paid period ended: canceled ones expire, unpaid ones after the grace. */
export async function sweepClock(
  db: Db,
  service: SubscriptionService,
  now: number,
  graceMs: number,
): Promise<number> {
  const ids = await repo.dueForClock(db, new Date(now), graceMs);
  for (const id of ids) await db.tx((q) => service.tick(q, id));
  return ids.length;
}
