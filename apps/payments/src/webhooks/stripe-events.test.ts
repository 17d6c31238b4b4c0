import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkFrom, metadataFor, readStripeEvent, type SubscriptionLink } from './stripe-events.js';

const CREATED = 1_790_000_000;
const AT = CREATED * 1000;

const link: SubscriptionLink = {
  userId: 'u-1',
  username: 'ada',
  channelId: 'c-1',
  channel: 'grace',
  tier: 'tier2',
};
const metadata = metadataFor(link, 'chk-1');

function read(type: string, object: Record<string, unknown>) {
  return readStripeEvent({ id: 'evt_1', type, created: CREATED, data: { object } });
}

const line = (start: number, end: number) => ({ period: { start, end } });

describe('reading Stripe events', () => {
  it('writes and reads back the link it puts in the metadata; anything short of it is no link', () => {
    assert.deepEqual(metadata, {
      neon_checkout_id: 'chk-1',
      neon_user_id: 'u-1',
      neon_username: 'ada',
      neon_channel_id: 'c-1',
      neon_channel: 'grace',
      neon_tier: 'tier2',
    });
    assert.deepEqual(linkFrom(metadata), link);
    assert.equal(linkFrom(null), null);
    assert.equal(linkFrom([metadata]), null);
    assert.equal(linkFrom('neon'), null);
    for (const key of Object.keys(metadata).filter((k) => k !== 'neon_checkout_id')) {
      assert.equal(linkFrom({ ...metadata, [key]: '' }), null, `${key} empty`);
      assert.equal(linkFrom({ ...metadata, [key]: 7 }), null, `${key} not a string`);
    }
    assert.equal(linkFrom({ ...metadata, neon_tier: 'tier9' }), null);
  });

  it('a completed subscription checkout links the subscription, by id or expanded', () => {
    const expected = { kind: 'subscription', ref: 'sub_1', link, facts: [], payment: null };
    assert.deepEqual(
      read('checkout.session.completed', { mode: 'subscription', subscription: 'sub_1', metadata }),
      expected,
    );
    assert.deepEqual(
      read('checkout.session.completed', {
        mode: 'subscription',
        subscription: { id: 'sub_1' },
        metadata,
      }),
      expected,
    );
    assert.deepEqual(
      read('checkout.session.completed', { mode: 'subscription', subscription: 'sub_1' }),
      {
        ...expected,
        link: null,
      },
    );
    for (const o of [
      { mode: 'payment', subscription: 'sub_1', metadata },
      { mode: 'subscription', metadata },
      { mode: 'subscription', subscription: '', metadata },
      { mode: 'subscription', subscription: { id: '' }, metadata },
    ])
      assert.deepEqual(read('checkout.session.completed', o), {
        kind: 'ignored',
        reason: 'not a subscription checkout',
      });
  });

  it('a subscription update says whether it cancels at the period end, and its tier', () => {
    for (const type of ['customer.subscription.created', 'customer.subscription.updated']) {
      assert.deepEqual(
        read(type, { id: 'sub_1', status: 'active', cancel_at_period_end: true, metadata }),
        {
          kind: 'subscription',
          ref: 'sub_1',
          link,
          facts: [
            { kind: 'cancel', at: AT, atPeriodEnd: true },
            { kind: 'tier', at: AT, tier: 'tier2' },
          ],
          payment: null,
        },
      );
    }
    // Only `true` cancels; without its metadata there is no tier to say.
    for (const flag of [false, 'true', 1, undefined])
      assert.deepEqual(
        read('customer.subscription.updated', {
          id: 'sub_1',
          status: 'active',
          cancel_at_period_end: flag,
        }),
        {
          kind: 'subscription',
          ref: 'sub_1',
          link: null,
          facts: [{ kind: 'cancel', at: AT, atPeriodEnd: false }],
          payment: null,
        },
      );
    for (const o of [{ status: 'active' }, { id: '', status: 'active' }])
      assert.deepEqual(read('customer.subscription.updated', o), {
        kind: 'ignored',
        reason: 'subscription without an id',
      });
  });

  it('a deleted, canceled or expired-incomplete subscription has ended', () => {
    const ended = (type: string, status: string) => {
      const u = read(type, { id: 'sub_1', status, cancel_at_period_end: true, metadata });
      assert.equal(u.kind, 'subscription');
      return u.kind === 'subscription' ? u.facts : [];
    };
    const facts = [
      { kind: 'ended', at: AT },
      { kind: 'tier', at: AT, tier: 'tier2' },
    ];
    assert.deepEqual(ended('customer.subscription.deleted', 'active'), facts);
    assert.deepEqual(ended('customer.subscription.updated', 'canceled'), facts);
    assert.deepEqual(ended('customer.subscription.updated', 'incomplete_expired'), facts);
    assert.deepEqual(ended('customer.subscription.updated', 'past_due')[0], {
      kind: 'cancel',
      at: AT,
      atPeriodEnd: true,
    });
  });

  it('a paid invoice records its period and payment, in either API version', () => {
    const period = { start: 1_790_000_000, end: 1_792_592_000 };
    const payment = { invoice: 'in_1', amount: 999, currency: 'usd', chargeRef: 'ch_1' };
    const expected = {
      kind: 'subscription',
      ref: 'sub_1',
      link,
      facts: [
        {
          kind: 'paid',
          at: AT,
          invoice: 'in_1',
          start: period.start * 1000,
          end: period.end * 1000,
        },
      ],
      payment,
    };
    const base = { id: 'in_1', amount_paid: 999, currency: 'usd', charge: 'ch_1' };
    const lines = { data: [line(period.start, period.end)] };
    // Since 2025: the subscription under parent.subscription_details.
    assert.deepEqual(
      read('invoice.paid', {
        ...base,
        lines,
        parent: { subscription_details: { subscription: 'sub_1', metadata } },
      }),
      expected,
    );
    // Before: top-level subscription, metadata under subscription_details.
    assert.deepEqual(
      read('invoice.paid', {
        ...base,
        lines,
        subscription: { id: 'sub_1' },
        subscription_details: { metadata },
      }),
      expected,
    );
    // The first line with a real period counts; a free invoice is still a payment.
    const messy = {
      data: [
        'x',
        { period: 'p' },
        line(5, 5),
        line(9, 3),
        line(period.start, period.end),
        line(1, 2),
      ],
    };
    assert.deepEqual(
      read('invoice.paid', {
        ...base,
        lines: messy,
        subscription: 'sub_1',
        subscription_details: { metadata },
      }),
      expected,
    );
    const free = read('invoice.paid', { ...base, amount_paid: 0, lines, subscription: 'sub_1' });
    assert.equal(free.kind === 'subscription' && free.payment?.amount, 0);
  });

  it('a payment names the charge, else the payment intent, else nothing', () => {
    const paid = (extra: Record<string, unknown>) => {
      const u = read('invoice.paid', {
        id: 'in_1',
        amount_paid: 499,
        currency: 'eur',
        subscription: 'sub_1',
        lines: { data: [line(10, 20)] },
        ...extra,
      });
      return u.kind === 'subscription' ? u.payment?.chargeRef : 'not a subscription';
    };
    assert.equal(paid({ charge: { id: 'ch_2' }, payment_intent: 'pi_1' }), 'ch_2');
    assert.equal(paid({ payment_intent: 'pi_1' }), 'pi_1');
    assert.equal(paid({ payment_intent: { id: 'pi_2' } }), 'pi_2');
    assert.equal(paid({}), null);
  });

  it('ignores an invoice it cannot place or price', () => {
    const good = {
      id: 'in_1',
      amount_paid: 499,
      currency: 'usd',
      subscription: 'sub_1',
      lines: { data: [line(10, 20)] },
    };
    for (const bad of [
      { ...good, id: undefined },
      { ...good, subscription: undefined },
      { ...good, lines: undefined },
      { ...good, lines: { data: 'x' } },
      { ...good, lines: { data: [line(20, 10)] } },
      { ...good, lines: { data: [{ period: { start: 10.5, end: 20 } }] } },
      { ...good, lines: { data: [{ period: { start: 10, end: '20' } }] } },
    ])
      assert.deepEqual(read('invoice.paid', bad), {
        kind: 'ignored',
        reason: 'invoice without a subscription, id or period',
      });
    for (const bad of [
      { ...good, amount_paid: -1 },
      { ...good, amount_paid: 4.99 },
      { ...good, amount_paid: '499' },
      { ...good, currency: '' },
      { ...good, currency: undefined },
      { ...good, amount_paid: undefined },
    ])
      assert.deepEqual(read('invoice.paid', bad), {
        kind: 'ignored',
        reason: 'paid invoice without an amount or currency',
      });
  });

  it('a failed invoice says which period went unpaid, whatever its amount', () => {
    assert.deepEqual(
      read('invoice.payment_failed', {
        id: 'in_2',
        subscription: 'sub_1',
        lines: { data: [line(20, 30)] },
        subscription_details: { metadata },
      }),
      {
        kind: 'subscription',
        ref: 'sub_1',
        link,
        facts: [{ kind: 'payment_failed', at: AT, periodEnd: 30_000 }],
        payment: null,
      },
    );
    assert.deepEqual(read('invoice.payment_failed', { id: 'in_2', subscription: 'sub_1' }), {
      kind: 'ignored',
      reason: 'invoice without a subscription, id or period',
    });
  });

  it('a refund takes back the cumulative amount of its charge, keyed by that amount', () => {
    assert.deepEqual(
      read('charge.refunded', {
        id: 'ch_1',
        amount_refunded: 300,
        invoice: { id: 'in_1' },
        payment_intent: 'pi_1',
      }),
      {
        kind: 'reversal',
        reason: 'refund',
        key: 'refund:stripe:ch_1:300',
        invoice: 'in_1',
        refs: ['ch_1', 'pi_1'],
        amount: 300,
        at: AT,
      },
    );
    // An empty id is no id.
    assert.deepEqual(
      read('charge.refunded', { id: 'ch_1', amount_refunded: 1, invoice: '', payment_intent: '' }),
      {
        kind: 'reversal',
        reason: 'refund',
        key: 'refund:stripe:ch_1:1',
        invoice: null,
        refs: ['ch_1'],
        amount: 1,
        at: AT,
      },
    );
    assert.deepEqual(read('charge.refunded', { id: 'ch_1', amount_refunded: 1 }), {
      kind: 'reversal',
      reason: 'refund',
      key: 'refund:stripe:ch_1:1',
      invoice: null,
      refs: ['ch_1'],
      amount: 1,
      at: AT,
    });
    for (const bad of [
      { amount_refunded: 300 },
      { id: 'ch_1', amount_refunded: 0 },
      { id: 'ch_1', amount_refunded: -5 },
      { id: 'ch_1', amount_refunded: 2.5 },
      { id: 'ch_1' },
    ])
      assert.deepEqual(read('charge.refunded', bad), {
        kind: 'ignored',
        reason: 'refund without a charge or amount',
      });
  });

  it('a dispute takes back its amount from its charge, keyed by the dispute', () => {
    assert.deepEqual(
      read('charge.dispute.created', {
        id: 'dp_1',
        amount: 999,
        charge: { id: 'ch_1' },
        payment_intent: { id: 'pi_1' },
      }),
      {
        kind: 'reversal',
        reason: 'dispute',
        key: 'dispute:stripe:dp_1',
        invoice: null,
        refs: ['ch_1', 'pi_1'],
        amount: 999,
        at: AT,
      },
    );
    for (const bad of [
      { amount: 999, charge: 'ch_1' },
      { id: 'dp_1', amount: 999 },
      { id: 'dp_1', amount: 0, charge: 'ch_1' },
      { id: 'dp_1', amount: 1.5, charge: 'ch_1' },
    ])
      assert.deepEqual(read('charge.dispute.created', bad), {
        kind: 'ignored',
        reason: 'dispute without an id, charge or amount',
      });
    const one = read('charge.dispute.created', { id: 'dp_1', amount: 1, charge: 'ch_1' });
    assert.equal(one.kind === 'reversal' && one.refs.join(), 'ch_1');
  });

  it('ignores the event types it does not use, saying which', () => {
    assert.deepEqual(read('customer.created', { id: 'cus_1' }), {
      kind: 'ignored',
      reason: 'event type customer.created is not used',
    });
  });
});
