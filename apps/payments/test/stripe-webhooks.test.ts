import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { OLD_SECRET, WEBHOOK_SECRET, stripeSignature, variants, type Harness } from './harness.js';

const DAY = 86_400;

interface Ctx {
  sub: string;
  user: Client;
  channel: Client;
  tier?: string;
}

const meta = (c: Ctx) => ({
  neon_checkout_id: 'chk',
  neon_user_id: c.user.id,
  neon_username: c.user.username,
  neon_channel_id: c.channel.id,
  neon_channel: c.channel.username,
  neon_tier: c.tier ?? 'tier2',
});

let seq = 0;
function event(
  type: string,
  object: Record<string, unknown>,
  created = Math.floor(Date.now() / 1000),
) {
  return {
    id: `evt_${randomUUID()}`,
    object: 'event',
    type,
    created: created + seq++ * 0,
    data: { object },
  };
}
const subObject = (c: Ctx, extra: Record<string, unknown> = {}) => ({
  id: c.sub,
  object: 'subscription',
  status: 'active',
  cancel_at_period_end: false,
  metadata: meta(c),
  ...extra,
});
function invoice(c: Ctx, n: number, opts: { amount?: number; charge?: string } = {}) {
  const start = Math.floor(Date.now() / 1000) - DAY + n * 30 * DAY;
  return {
    id: `in_${c.sub}_${n}`,
    object: 'invoice',
    subscription: c.sub,
    subscription_details: { metadata: meta(c) },
    amount_paid: opts.amount ?? 999,
    currency: 'usd',
    charge: opts.charge ?? `ch_${c.sub}_${n}`,
    lines: { data: [{ period: { start, end: start + 30 * DAY } }] },
  };
}

for (const variant of variants()) {
  describe(`Stripe webhooks on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let streamer: Client;
    let viewer: Client;

    before(async () => {
      h = await variant.open({ STRIPE_WEBHOOK_SECRET: `${OLD_SECRET},${WEBHOOK_SECRET}` });
      streamer = await h.register();
      viewer = await h.register();
    });
    after(() => h.close());

    const post = (body: string | Buffer, headers: Record<string, string>) =>
      h.app.server.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        payload: body,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const send = async (e: object, secrets = [WEBHOOK_SECRET]) => {
      const body = JSON.stringify(e);
      const res = await post(body, { 'stripe-signature': stripeSignature(body, secrets) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ received: boolean; duplicate: boolean }>();
    };
    const stored = async () =>
      Number(
        (
          await h.platform.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM payments.webhook_events`,
          )
        )[0]!.n,
      );
    const sub = async (ref: string) =>
      (
        await h.platform.db.query<{
          status: string;
          months: number;
          cancel_at_period_end: boolean;
          version: number;
        }>(
          `SELECT status, months, cancel_at_period_end, version FROM payments.subscriptions WHERE provider_ref = $1`,
          [ref],
        )
      )[0];
    const ledgerTotal = async () =>
      Number(
        (
          await h.platform.db.query<{ t: string | null }>(
            `SELECT sum(amount)::text AS t FROM payments.ledger_entries`,
          )
        )[0]!.t ?? 0,
      );
    const streamerOwed = async () =>
      -Number(
        (
          await h.platform.db.query<{ t: string | null }>(
            `SELECT sum(amount)::text AS t FROM payments.ledger_entries WHERE account = $1`,
            [`streamer:${streamer.id}`],
          )
        )[0]!.t ?? 0,
      );
    const ctx = (): Ctx => ({ sub: `sub_${randomUUID()}`, user: viewer, channel: streamer });

    describe('signature checks: a refused request stores nothing', () => {
      const refused = async (
        res: Awaited<ReturnType<typeof post>>,
        status: number,
        code: string,
      ) => {
        assert.equal(res.statusCode, status, res.body);
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        assert.equal(res.json<{ code: string }>().code, code);
      };
      const body = () => JSON.stringify(event('customer.subscription.created', subObject(ctx())));

      it('no signature header', async () => {
        const before = await stored();
        await refused(await post(body(), {}), 400, 'PAYMENTS_SIGNATURE_MISSING');
        await refused(
          await post(body(), { 'stripe-signature': 'nonsense' }),
          400,
          'PAYMENTS_SIGNATURE_MISSING',
        );
        assert.equal(await stored(), before);
      });

      it('a wrong secret, a changed body, a re-encoded body', async () => {
        const before = await stored();
        const b = body();
        await refused(
          await post(b, { 'stripe-signature': stripeSignature(b, ['whsec_other']) }),
          400,
          'PAYMENTS_SIGNATURE_INVALID',
        );
        const sig = stripeSignature(b, [WEBHOOK_SECRET]);
        await refused(
          await post(b.replace('tier2', 'tier3'), { 'stripe-signature': sig }),
          400,
          'PAYMENTS_SIGNATURE_INVALID',
        );
        await refused(
          await post(JSON.stringify(JSON.parse(b), null, 2), { 'stripe-signature': sig }),
          400,
          'PAYMENTS_SIGNATURE_INVALID',
        );
        assert.equal(await stored(), before);
      });

      it('a timestamp older or newer than five minutes (a replay of an old delivery)', async () => {
        const before = await stored();
        const b = body();
        await refused(
          await post(b, {
            'stripe-signature': stripeSignature(b, [WEBHOOK_SECRET], Date.now() - 301_000),
          }),
          400,
          'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
        );
        await refused(
          await post(b, {
            'stripe-signature': stripeSignature(b, [WEBHOOK_SECRET], Date.now() + 301_000),
          }),
          400,
          'PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE',
        );
        assert.equal(await stored(), before);
      });

      it('an oversized body, another content type, malformed JSON, an object that is no event', async () => {
        const before = await stored();
        const big = JSON.stringify({ pad: 'x'.repeat(300_000) });
        await refused(
          await post(big, { 'stripe-signature': stripeSignature(big, [WEBHOOK_SECRET]) }),
          413,
          'PAYLOAD_TOO_LARGE',
        );
        const b = body();
        const res = await h.app.server.inject({
          method: 'POST',
          url: '/webhooks/stripe',
          payload: b,
          headers: {
            'content-type': 'text/plain',
            'stripe-signature': stripeSignature(b, [WEBHOOK_SECRET]),
          },
        });
        await refused(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
        const bad = '{"id": "evt_1", "type":';
        await refused(
          await post(bad, { 'stripe-signature': stripeSignature(bad, [WEBHOOK_SECRET]) }),
          400,
          'PAYMENTS_EVENT_MALFORMED',
        );
        const notEvent = JSON.stringify([1, 2]);
        await refused(
          await post(notEvent, { 'stripe-signature': stripeSignature(notEvent, [WEBHOOK_SECRET]) }),
          400,
          'PAYMENTS_EVENT_MALFORMED',
        );
        assert.equal(await stored(), before);
      });

      it('several v1 values (a secret rotation): one matching a configured secret is enough', async () => {
        assert.equal(
          (await send(event('ping.unknown', {}), ['whsec_unknown', WEBHOOK_SECRET])).received,
          true,
        );
        assert.equal((await send(event('ping.unknown', {}), [OLD_SECRET])).received, true);
      });

      it('an unknown event type is acknowledged, logged and changes nothing', async () => {
        const e = event('customer.created', { id: 'cus_1' });
        await send(e);
        await h.app.processEvents();
        const rows = await h.platform.db.query<{ state: string }>(
          `SELECT state FROM payments.webhook_events WHERE event_id = $1`,
          [e.id],
        );
        assert.equal(rows[0]?.state, 'ignored');
      });
    });

    describe('lifecycle', () => {
      it('checkout, creation and the first invoice: active, one month, announced once, revenue split', async () => {
        const c = ctx();
        const owed = await streamerOwed();
        await send(
          event('checkout.session.completed', {
            id: 'cs_1',
            mode: 'subscription',
            subscription: c.sub,
            metadata: meta(c),
          }),
        );
        await send(event('customer.subscription.created', subObject(c)));
        const paid = event('invoice.paid', invoice(c, 0));
        await send(paid);
        // The same delivery again, and a redelivery under the same id: stored once.
        assert.equal((await send(paid)).duplicate, true);
        await h.app.processEvents();
        assert.deepEqual(await sub(c.sub), {
          status: 'active',
          months: 1,
          cancel_at_period_end: false,
          version: 1,
        });
        await waitFor(
          () =>
            h.published.some(
              (e) =>
                e.type === 'payments.subscription.activated.v1' &&
                e.data.channel === streamer.username &&
                e.data.username === viewer.username,
            ),
          { what: 'activated event' },
        );
        assert.equal(await streamerOwed(), owed + 500);
        assert.equal(await ledgerTotal(), 0);
      });

      it('a renewal extends the period and counts a month; a failed payment then recovery', async () => {
        const c = ctx();
        await send(event('invoice.paid', invoice(c, 0)));
        await h.app.processEvents();
        await send(event('invoice.payment_failed', invoice(c, 1)));
        await h.app.processEvents();
        assert.equal((await sub(c.sub))?.status, 'past_due');
        await send(event('invoice.paid', invoice(c, 1)));
        await h.app.processEvents();
        assert.deepEqual(await sub(c.sub), {
          status: 'active',
          months: 2,
          cancel_at_period_end: false,
          version: 3,
        });
        assert.equal(await ledgerTotal(), 0);
      });

      it('updated before created: the newer state wins', async () => {
        const c = ctx();
        const t = Math.floor(Date.now() / 1000);
        await send(event('invoice.paid', invoice(c, 0)));
        await send(
          event(
            'customer.subscription.updated',
            subObject(c, { cancel_at_period_end: true }),
            t + 2,
          ),
        );
        await send(event('customer.subscription.created', subObject(c), t + 1));
        await h.app.processEvents();
        assert.equal((await sub(c.sub))?.status, 'canceled');
        assert.equal((await sub(c.sub))?.cancel_at_period_end, true);
      });

      it('deleted before paid: stays expired', async () => {
        const c = ctx();
        const t = Math.floor(Date.now() / 1000);
        await send(
          event('customer.subscription.deleted', subObject(c, { status: 'canceled' }), t + 5),
        );
        await send(event('invoice.paid', invoice(c, 0), t));
        await h.app.processEvents();
        assert.equal((await sub(c.sub))?.status, 'expired');
        assert.equal(await ledgerTotal(), 0);
      });

      it('a refund revokes the subscription and reverses the money, once', async () => {
        const c = ctx();
        const owed = await streamerOwed();
        await send(event('invoice.paid', invoice(c, 0, { charge: `ch_${c.sub}` })));
        await h.app.processEvents();
        assert.equal(await streamerOwed(), owed + 500);
        const refund = event('charge.refunded', {
          id: `ch_${c.sub}`,
          object: 'charge',
          amount_refunded: 999,
        });
        await send(refund);
        await send(
          event('charge.refunded', { id: `ch_${c.sub}`, object: 'charge', amount_refunded: 999 }),
        );
        await h.app.processEvents();
        assert.equal((await sub(c.sub))?.status, 'expired');
        assert.equal(await streamerOwed(), owed);
        assert.equal(await ledgerTotal(), 0);
        await waitFor(
          () =>
            h.published.some(
              (e) =>
                e.type === 'payments.subscription.expired.v1' &&
                e.data.subscriptionId !== '' &&
                e.data.entitled === false,
            ),
          { what: 'expired event' },
        );
      });

      it('a refund delivered before its payment waits for it', async () => {
        const c = ctx();
        const owed = await streamerOwed();
        await send(
          event('charge.refunded', { id: `ch_${c.sub}`, object: 'charge', amount_refunded: 999 }),
        );
        await h.app.processEvents();
        await send(event('invoice.paid', invoice(c, 0, { charge: `ch_${c.sub}` })));
        await waitFor(async () => (await sub(c.sub))?.status === 'expired', {
          what: 'the refund applied after its payment',
        });
        assert.equal(await streamerOwed(), owed);
        assert.equal(await ledgerTotal(), 0);
      });

      it('a dispute revokes the subscription', async () => {
        const c = ctx();
        await send(event('invoice.paid', invoice(c, 0, { charge: `ch_${c.sub}` })));
        await send(
          event('charge.dispute.created', {
            id: `dp_${c.sub}`,
            object: 'dispute',
            charge: `ch_${c.sub}`,
            amount: 999,
          }),
        );
        await h.app.processEvents();
        assert.equal((await sub(c.sub))?.status, 'expired');
        assert.equal(await ledgerTotal(), 0);
      });

      it('an event naming no known user or channel is parked and listed for admins, never dropped', async () => {
        const e = event('invoice.paid', {
          ...invoice(ctx(), 0),
          subscription_details: { metadata: {} },
        });
        await send(e);
        await waitFor(
          async () => {
            await h.app.processEvents();
            const res = await h.app.server.inject({
              url: '/admin/v1/payments/parked',
              headers: h.as({ ...viewer, roles: ['user', 'admin'] }),
            });
            return res
              .json<{ items: { eventId: string }[] }>()
              .items.some((i) => i.eventId === e.id);
          },
          { what: 'the parked event' },
        );
        const forbidden = await h.app.server.inject({
          url: '/admin/v1/payments/parked',
          headers: h.as(viewer),
        });
        assert.equal(forbidden.statusCode, 403);
      });
    });
  });
}
