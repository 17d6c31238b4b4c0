import type { SubscriptionStatus, SubscriptionTier } from '@neon/contracts';

/**
 * A subscription's state as the facts the providers reported, merged so that
 * the order and the number of times they arrive do not matter: every merge is
 * commutative and idempotent (sets, maxima, and last-writer-wins by the
 * provider's own timestamp with a fixed tie-break). The status is derived from
 * the facts and the clock, so a late or repeated event can never move a
 * subscription backwards.
 *
 * pending → active → past_due → canceled → expired:
 * - pending: created, nothing paid yet;
 * - active: paid through a date in the future (plus a grace for a late renewal);
 * - past_due: a payment for the next period failed; access continues for the grace;
 * - canceled: will not renew; access continues to the end of the paid period;
 * - expired: ended by the provider, refunded, disputed, or its time ran out. Ended,
 *   refunded and disputed are final; an expiry by the clock ends when a newer
 *   period is paid.
 */
export interface SubscriptionFacts {
  /** Paid invoices, each once, ordered by period end then id. */
  paid: PaidPeriod[];
  /** The end of the latest period whose payment failed (ms), or null. */
  failedThrough: number | null;
  /** Cancel at the end of the period, last writer (by provider time) wins; null: never said. */
  cancel: { at: number; atPeriodEnd: boolean } | null;
  /** The tier, last writer (by provider time) wins. */
  tier: { at: number; value: SubscriptionTier };
  /** When the provider ended it (the earliest report), or null. */
  ended: number | null;
  /** A refund or dispute took the money back (the earliest report), or null. */
  revoked: { at: number; reason: RevokeReason } | null;
}

export type RevokeReason = 'refund' | 'dispute';

export interface PaidPeriod {
  invoice: string;
  /** Period start and end, ms since the epoch. */
  start: number;
  end: number;
}

/** One fact about a subscription, in provider-neutral terms. `at` is the provider's own time (ms). */
export type SubscriptionFact =
  | { kind: 'paid'; at: number; invoice: string; start: number; end: number }
  | { kind: 'payment_failed'; at: number; periodEnd: number }
  | { kind: 'cancel'; at: number; atPeriodEnd: boolean }
  | { kind: 'tier'; at: number; tier: SubscriptionTier }
  | { kind: 'ended'; at: number }
  | { kind: 'revoked'; at: number; reason: RevokeReason };

/** What a transition announces (each becomes a `payments.subscription.<kind>.v1` event). */
export type SubscriptionChange = 'activated' | 'renewed' | 'canceled' | 'expired';

export interface SubscriptionView {
  status: SubscriptionStatus;
  tier: SubscriptionTier;
  /** Paid periods so far (the badge's months). */
  months: number;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
}

export function initialFacts(tier: SubscriptionTier, at: number): SubscriptionFacts {
  return {
    paid: [],
    failedThrough: null,
    cancel: null,
    tier: { at, value: tier },
    ended: null,
    revoked: null,
  };
}

function byEndThenInvoice(a: PaidPeriod, b: PaidPeriod): number {
  return a.end - b.end || (a.invoice < b.invoice ? -1 : a.invoice > b.invoice ? 1 : 0);
}

const REVOKE_ORDER: Record<RevokeReason, number> = { refund: 0, dispute: 1 };

/** Merges one fact into the facts; returns a new value, never mutates. */
export function applyFact(facts: SubscriptionFacts, fact: SubscriptionFact): SubscriptionFacts {
  switch (fact.kind) {
    case 'paid': {
      if (!(fact.end > fact.start)) throw new RangeError('a paid period must end after it starts');
      if (facts.paid.some((p) => p.invoice === fact.invoice)) return facts;
      const paid = [...facts.paid, { invoice: fact.invoice, start: fact.start, end: fact.end }];
      paid.sort(byEndThenInvoice);
      return { ...facts, paid };
    }
    case 'payment_failed':
      if (facts.failedThrough !== null && facts.failedThrough >= fact.periodEnd) return facts;
      return { ...facts, failedThrough: fact.periodEnd };
    case 'cancel': {
      const c = facts.cancel;
      // Later wins; at the same instant, cancelling wins (a fixed rule, so the order does not matter).
      if (c && (c.at > fact.at || (c.at === fact.at && (c.atPeriodEnd || !fact.atPeriodEnd))))
        return facts;
      return { ...facts, cancel: { at: fact.at, atPeriodEnd: fact.atPeriodEnd } };
    }
    case 'tier': {
      const t = facts.tier;
      if (t.at > fact.at || (t.at === fact.at && t.value >= fact.tier)) return facts;
      return { ...facts, tier: { at: fact.at, value: fact.tier } };
    }
    case 'ended':
      if (facts.ended !== null && facts.ended <= fact.at) return facts;
      return { ...facts, ended: fact.at };
    case 'revoked': {
      const r = facts.revoked;
      if (
        r &&
        (r.at < fact.at ||
          (r.at === fact.at && REVOKE_ORDER[r.reason] <= REVOKE_ORDER[fact.reason]))
      )
        return facts;
      return { ...facts, revoked: { at: fact.at, reason: fact.reason } };
    }
  }
}

/** The subscription as users see it at `now`; `graceMs` is how long access outlives an unpaid period. */
export function viewAt(facts: SubscriptionFacts, now: number, graceMs: number): SubscriptionView {
  const last = facts.paid[facts.paid.length - 1];
  const cancelAtPeriodEnd = facts.cancel?.atPeriodEnd ?? false;
  const base = {
    tier: facts.tier.value,
    months: facts.paid.length,
    currentPeriodStart: last?.start ?? null,
    currentPeriodEnd: last?.end ?? null,
    cancelAtPeriodEnd,
  };
  return { ...base, status: statusAt(facts, now, graceMs) };
}

export function statusAt(
  facts: SubscriptionFacts,
  now: number,
  graceMs: number,
): SubscriptionStatus {
  if (facts.revoked !== null || facts.ended !== null) return 'expired';
  const last = facts.paid[facts.paid.length - 1];
  if (!last) return 'pending';
  const cancelAtPeriodEnd = facts.cancel?.atPeriodEnd ?? false;
  if (cancelAtPeriodEnd) return now < last.end ? 'canceled' : 'expired';
  if (now >= last.end + graceMs) return 'expired';
  if (facts.failedThrough !== null && facts.failedThrough > last.end) return 'past_due';
  return 'active';
}

/** Whether the status gives the subscriber's benefits (badge, subscribers-only chat). */
export function isEntitled(status: SubscriptionStatus): boolean {
  return status === 'active' || status === 'past_due' || status === 'canceled';
}

/** What changed between two views, in the order consumers should hear it. */
export function changesBetween(
  before: SubscriptionView,
  after: SubscriptionView,
): SubscriptionChange[] {
  const out: SubscriptionChange[] = [];
  const wasEntitled = isEntitled(before.status);
  const entitled = isEntitled(after.status);
  if (entitled && !wasEntitled) out.push(before.months === 0 ? 'activated' : 'renewed');
  else if (entitled && after.months > before.months) out.push('renewed');
  if (after.status === 'canceled' && before.status !== 'canceled') out.push('canceled');
  if (after.status === 'expired' && before.status !== 'expired') out.push('expired');
  return out;
}

/**
 * Applies facts and reports the view at `now` and what changed since
 * `previous` (the view last stored and announced; by default the one at `now`
 * before these facts, which misses a change the clock alone made).
 */
export function transition(
  facts: SubscriptionFacts,
  incoming: readonly SubscriptionFact[],
  now: number,
  graceMs: number,
  previous?: SubscriptionView,
): { facts: SubscriptionFacts; view: SubscriptionView; changes: SubscriptionChange[] } {
  const before = previous ?? viewAt(facts, now, graceMs);
  let next = facts;
  for (const f of incoming) next = applyFact(next, f);
  const view = viewAt(next, now, graceMs);
  return { facts: next, view, changes: changesBetween(before, view) };
}
