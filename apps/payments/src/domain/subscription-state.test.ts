import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyFact,
  changesBetween,
  initialFacts,
  isEntitled,
  statusAt,
  transition,
  viewAt,
  type SubscriptionFact,
  type SubscriptionFacts,
} from './subscription-state.js';

const DAY = 86_400_000;
const GRACE = 3 * DAY;
const T0 = Date.UTC(2026, 0, 1);
const fresh = (): SubscriptionFacts => initialFacts('tier1', T0);
const paid = (n: number, at = T0 + n * 30 * DAY): SubscriptionFact => ({
  kind: 'paid',
  at,
  invoice: `in_${n}`,
  start: T0 + n * 30 * DAY,
  end: T0 + (n + 1) * 30 * DAY,
});
const all = (facts: readonly SubscriptionFact[], base = fresh()) => facts.reduce(applyFact, base);

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe('subscription state: statuses', () => {
  it('is pending until a period is paid', () => {
    assert.equal(statusAt(fresh(), T0, GRACE), 'pending');
    assert.equal(
      statusAt(all([{ kind: 'payment_failed', at: T0, periodEnd: T0 + 30 * DAY }]), T0, GRACE),
      'pending',
    );
  });

  it('is active once paid, for the period and the grace after it, then expired', () => {
    const f = all([paid(0)]);
    assert.equal(statusAt(f, T0 + DAY, GRACE), 'active');
    assert.equal(statusAt(f, T0 + 30 * DAY + GRACE - 1, GRACE), 'active');
    assert.equal(statusAt(f, T0 + 30 * DAY + GRACE, GRACE), 'expired');
  });

  it('goes past_due when the next period fails, and back to active when it is paid', () => {
    const failed = all([
      paid(0),
      { kind: 'payment_failed', at: T0 + 30 * DAY, periodEnd: T0 + 60 * DAY },
    ]);
    assert.equal(statusAt(failed, T0 + 30 * DAY, GRACE), 'past_due');
    assert.equal(statusAt(failed, T0 + 30 * DAY + GRACE, GRACE), 'expired');
    const recovered = applyFact(failed, paid(1, T0 + 31 * DAY));
    assert.equal(statusAt(recovered, T0 + 31 * DAY, GRACE), 'active');
    assert.equal(viewAt(recovered, T0 + 31 * DAY, GRACE).months, 2);
  });

  it('a failure for a period already paid (late delivery) changes nothing', () => {
    const f = all([
      paid(0),
      paid(1),
      { kind: 'payment_failed', at: T0 + 30 * DAY, periodEnd: T0 + 60 * DAY },
    ]);
    assert.equal(statusAt(f, T0 + 40 * DAY, GRACE), 'active');
  });

  it('cancel at period end: canceled (still entitled) until the end, then expired without grace', () => {
    const f = all([paid(0), { kind: 'cancel', at: T0 + DAY, atPeriodEnd: true }]);
    assert.equal(statusAt(f, T0 + 2 * DAY, GRACE), 'canceled');
    assert.ok(isEntitled('canceled'));
    assert.equal(statusAt(f, T0 + 30 * DAY, GRACE), 'expired');
  });

  it('a later resume undoes a cancel; an older one does not', () => {
    const canceled = all([paid(0), { kind: 'cancel', at: T0 + 2 * DAY, atPeriodEnd: true }]);
    const stale = applyFact(canceled, { kind: 'cancel', at: T0 + DAY, atPeriodEnd: false });
    assert.equal(statusAt(stale, T0 + 3 * DAY, GRACE), 'canceled');
    const resumed = applyFact(canceled, { kind: 'cancel', at: T0 + 3 * DAY, atPeriodEnd: false });
    assert.equal(statusAt(resumed, T0 + 3 * DAY, GRACE), 'active');
  });

  it('ended by the provider, refunded or disputed is expired for good, whatever arrives later', () => {
    for (const end of [
      { kind: 'ended', at: T0 + DAY },
      { kind: 'revoked', at: T0 + DAY, reason: 'refund' },
      { kind: 'revoked', at: T0 + DAY, reason: 'dispute' },
    ] as const) {
      const f = all([
        paid(0),
        end,
        paid(1),
        { kind: 'cancel', at: T0 + 5 * DAY, atPeriodEnd: false },
      ]);
      assert.equal(statusAt(f, T0 + 35 * DAY, GRACE), 'expired', end.kind);
    }
  });

  it('a payment arriving after an expiry by the clock brings the subscription back', () => {
    const f = all([paid(0)]);
    const late = T0 + 30 * DAY + GRACE + DAY;
    assert.equal(statusAt(f, late, GRACE), 'expired');
    assert.equal(statusAt(applyFact(f, paid(1)), late, GRACE), 'active');
  });

  it('rejects a period that does not end after it starts', () => {
    assert.throws(
      () => applyFact(fresh(), { kind: 'paid', at: T0, invoice: 'x', start: T0, end: T0 }),
      RangeError,
    );
  });

  it('only active, past_due and canceled are entitled', () => {
    assert.deepEqual(
      (['pending', 'active', 'past_due', 'canceled', 'expired'] as const).filter(isEntitled),
      ['active', 'past_due', 'canceled'],
    );
  });
});

describe('subscription state: renewals and months', () => {
  it('each paid period counts once; a duplicate invoice is ignored', () => {
    const f = all([paid(0), paid(1), paid(1), paid(2), paid(0)]);
    const v = viewAt(f, T0 + 61 * DAY, GRACE);
    assert.equal(v.months, 3);
    assert.equal(v.currentPeriodEnd, T0 + 90 * DAY);
    assert.equal(v.currentPeriodStart, T0 + 60 * DAY);
  });

  it('the tier follows the newest report', () => {
    const f = all([
      { kind: 'tier', at: T0 + 2 * DAY, tier: 'tier3' },
      { kind: 'tier', at: T0 + DAY, tier: 'tier2' },
    ]);
    assert.equal(viewAt(f, T0, GRACE).tier, 'tier3');
  });
});

describe('subscription state: what each step announces', () => {
  it('activated on the first payment, renewed on the next, nothing on a duplicate', () => {
    let f = fresh();
    const step = (fact: SubscriptionFact, now: number) => {
      const r = transition(f, [fact], now, GRACE);
      f = r.facts;
      return r.changes;
    };
    assert.deepEqual(step(paid(0), T0), ['activated']);
    assert.deepEqual(step(paid(0), T0), []);
    assert.deepEqual(step(paid(1), T0 + 30 * DAY), ['renewed']);
    assert.deepEqual(
      step({ kind: 'cancel', at: T0 + 31 * DAY, atPeriodEnd: true }, T0 + 31 * DAY),
      ['canceled'],
    );
    assert.deepEqual(
      step({ kind: 'cancel', at: T0 + 31 * DAY, atPeriodEnd: true }, T0 + 31 * DAY),
      [],
    );
    const stored = viewAt(f, T0 + 31 * DAY, GRACE);
    assert.deepEqual(transition(f, [], T0 + 60 * DAY, GRACE, stored).changes, ['expired']);
    assert.deepEqual(transition(f, [], T0 + 60 * DAY, GRACE).changes, []);
  });

  it('a refund announces expired once', () => {
    const f = all([paid(0)]);
    const r = transition(f, [{ kind: 'revoked', at: T0 + DAY, reason: 'refund' }], T0 + DAY, GRACE);
    assert.deepEqual(r.changes, ['expired']);
    assert.deepEqual(
      transition(r.facts, [{ kind: 'revoked', at: T0 + DAY, reason: 'refund' }], T0 + DAY, GRACE)
        .changes,
      [],
    );
  });

  it('a payment after an expiry announces renewed, not activated', () => {
    const before = viewAt(all([paid(0)]), T0 + 40 * DAY, GRACE);
    const after = viewAt(all([paid(0), paid(1)]), T0 + 40 * DAY, GRACE);
    assert.deepEqual(changesBetween(before, after), ['renewed']);
  });

  it('past_due announces nothing (still entitled); recovery announces renewed', () => {
    const f = all([paid(0)]);
    const failed = transition(
      f,
      [{ kind: 'payment_failed', at: T0 + 30 * DAY, periodEnd: T0 + 60 * DAY }],
      T0 + 30 * DAY,
      GRACE,
    );
    assert.equal(failed.view.status, 'past_due');
    assert.deepEqual(failed.changes, []);
    assert.deepEqual(transition(failed.facts, [paid(1)], T0 + 31 * DAY, GRACE).changes, [
      'renewed',
    ]);
  });
});

describe('subscription state: order and duplicates do not matter', () => {
  const story: SubscriptionFact[] = [
    paid(0, T0 + 1000),
    { kind: 'payment_failed', at: T0 + 30 * DAY, periodEnd: T0 + 60 * DAY },
    paid(1, T0 + 31 * DAY),
    { kind: 'cancel', at: T0 + 32 * DAY, atPeriodEnd: true },
    { kind: 'cancel', at: T0 + 33 * DAY, atPeriodEnd: false },
    { kind: 'tier', at: T0 + 34 * DAY, tier: 'tier2' },
  ];

  it('every order of the same facts gives the same facts (720 orders)', () => {
    const expected = all(story);
    for (const order of permutations(story)) assert.deepEqual(all(order), expected);
  });

  it('applying any fact again changes nothing', () => {
    const f = all(story);
    for (const fact of story) assert.deepEqual(applyFact(f, fact), f);
  });

  it('deleted before paid: the subscription stays expired in every order', () => {
    const facts: SubscriptionFact[] = [paid(0), { kind: 'ended', at: T0 + 30 * DAY }, paid(1)];
    for (const order of permutations(facts))
      assert.equal(statusAt(all(order), T0 + 31 * DAY, GRACE), 'expired');
  });

  it('ties on the provider clock resolve the same way in either order', () => {
    const a: SubscriptionFact = { kind: 'cancel', at: T0, atPeriodEnd: true };
    const b: SubscriptionFact = { kind: 'cancel', at: T0, atPeriodEnd: false };
    assert.deepEqual(all([a, b]), all([b, a]));
    const r1: SubscriptionFact = { kind: 'revoked', at: T0, reason: 'refund' };
    const r2: SubscriptionFact = { kind: 'revoked', at: T0, reason: 'dispute' };
    assert.deepEqual(all([r1, r2]), all([r2, r1]));
    const t1: SubscriptionFact = { kind: 'tier', at: T0 + 1, tier: 'tier1' };
    const t2: SubscriptionFact = { kind: 'tier', at: T0 + 1, tier: 'tier3' };
    assert.deepEqual(all([t1, t2]), all([t2, t1]));
    const e1: SubscriptionFact = { kind: 'ended', at: T0 + 2 };
    const e2: SubscriptionFact = { kind: 'ended', at: T0 + 1 };
    assert.deepEqual(all([e1, e2]), all([e2, e1]));
    const f1: SubscriptionFact = { kind: 'payment_failed', at: T0, periodEnd: T0 + 2 };
    const f2: SubscriptionFact = { kind: 'payment_failed', at: T0, periodEnd: T0 + 1 };
    assert.deepEqual(all([f1, f2]), all([f2, f1]));
  });
});

describe('subscription state: what each merge keeps', () => {
  const at = (n: number) => T0 + n;

  it('keeps paid periods by end, then by invoice, whatever the order they came in', () => {
    const late: SubscriptionFact = { kind: 'paid', at: at(1), invoice: 'in_a', start: 10, end: 20 };
    const early: SubscriptionFact = { kind: 'paid', at: at(2), invoice: 'in_z', start: 0, end: 10 };
    const twin: SubscriptionFact = { kind: 'paid', at: at(3), invoice: 'in_b', start: 10, end: 20 };
    for (const order of permutations([late, early, twin])) {
      const facts = all(order);
      assert.deepEqual(
        facts.paid.map((p) => p.invoice),
        ['in_z', 'in_a', 'in_b'],
      );
      assert.equal(viewAt(facts, 15, GRACE).currentPeriodEnd, 20);
    }
    assert.throws(
      () => applyFact(fresh(), { kind: 'paid', at: T0, invoice: 'in_0', start: 5, end: 5 }),
      /a paid period must end after it starts/,
    );
  });

  it('keeps the latest period whose payment failed', () => {
    const failed = (periodEnd: number): SubscriptionFact => ({
      kind: 'payment_failed',
      at: T0,
      periodEnd,
    });
    assert.equal(all([failed(30), failed(20)]).failedThrough, 30);
    assert.equal(all([failed(20), failed(30)]).failedThrough, 30);
  });

  it('keeps the newest tier, a downgrade too; at the same instant the higher tier', () => {
    const tier = (n: number, value: 'tier1' | 'tier2' | 'tier3'): SubscriptionFact => ({
      kind: 'tier',
      at: at(n),
      tier: value,
    });
    assert.deepEqual(all([tier(5, 'tier3'), tier(7, 'tier1')]).tier, { at: at(7), value: 'tier1' });
    assert.deepEqual(all([tier(7, 'tier1'), tier(5, 'tier3')]).tier, { at: at(7), value: 'tier1' });
    assert.deepEqual(all([tier(5, 'tier1'), tier(5, 'tier3')]).tier, { at: at(5), value: 'tier3' });
    assert.deepEqual(all([tier(5, 'tier3'), tier(5, 'tier1')]).tier, { at: at(5), value: 'tier3' });
  });

  it('keeps the earliest end the provider reported', () => {
    assert.equal(all([{ kind: 'ended', at: at(10) }]).ended, at(10));
    assert.equal(
      all([
        { kind: 'ended', at: at(5) },
        { kind: 'ended', at: at(10) },
      ]).ended,
      at(5),
    );
    assert.equal(
      all([
        { kind: 'ended', at: at(10) },
        { kind: 'ended', at: at(5) },
      ]).ended,
      at(5),
    );
    assert.equal(all([{ kind: 'ended', at: at(10) }]).revoked, null);
  });

  it('keeps the earliest refund or dispute; at the same instant the refund', () => {
    const refund = (n: number): SubscriptionFact => ({
      kind: 'revoked',
      at: at(n),
      reason: 'refund',
    });
    const dispute = (n: number): SubscriptionFact => ({
      kind: 'revoked',
      at: at(n),
      reason: 'dispute',
    });
    assert.deepEqual(all([refund(5)]).revoked, { at: at(5), reason: 'refund' });
    assert.deepEqual(all([refund(5), dispute(10)]).revoked, { at: at(5), reason: 'refund' });
    assert.deepEqual(all([refund(5), dispute(3)]).revoked, { at: at(3), reason: 'dispute' });
    assert.deepEqual(all([refund(5), dispute(5)]).revoked, { at: at(5), reason: 'refund' });
    assert.deepEqual(all([dispute(5), refund(5)]).revoked, { at: at(5), reason: 'refund' });
    assert.equal(all([refund(5)]).ended, null);
  });

  it('starts with the tier asked for and no cancel; a cancel at the period end shows', () => {
    const view = viewAt(fresh(), T0, GRACE);
    assert.equal(view.tier, 'tier1');
    assert.equal(view.cancelAtPeriodEnd, false);
    const cancelled = all([paid(0), { kind: 'cancel', at: T0 + 1, atPeriodEnd: true }]);
    assert.equal(viewAt(cancelled, T0 + 2, GRACE).cancelAtPeriodEnd, true);
    const resumed = applyFact(cancelled, { kind: 'cancel', at: T0 + 3, atPeriodEnd: false });
    assert.equal(viewAt(resumed, T0 + 4, GRACE).cancelAtPeriodEnd, false);
  });
});
