import Type from 'typebox';
import { ChannelRevenue, ParkedEventList } from '@neon/contracts';
import type { Db } from '@neon/db';
import { requireRole, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import { accounts, balance } from '../ledger/ledger.repository.js';
import { runPayouts, startOfMonth } from '../ledger/payout.service.js';
import { SubscriptionRepository } from '../subscriptions/subscription.repository.js';
import { WebhookRepository } from '../webhooks/webhook.repository.js';

export interface RevenueRoutesOptions {
  db: Db;
  currency: string;
  clock: () => number;
}

export const revenueRoutes: FastifyPluginAsyncTypebox<RevenueRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/me/revenue',
    { schema: { response: { 200: ChannelRevenue } } },
    async (request) => {
      const client = requireUser(request);
      const account = accounts.streamer(client.id);
      const since = startOfMonth(new Date(o.clock()));
      const payouts = await o.db.query<{
        month: string;
        amount: string;
        currency: string;
        paid_at: Date;
      }>(
        `SELECT month, amount::text, currency, paid_at FROM payments.payouts
        WHERE channel_id = $1 ORDER BY month DESC LIMIT 24`,
        [client.id],
      );
      return {
        currency: o.currency,
        subscribers: await SubscriptionRepository.countByTier(o.db, client.id),
        // The streamer's account is credited (negative) by payments and debited by reversals.
        revenueThisMonth: -(await balance(o.db, account, since, null, [
          'payment',
          'refund',
          'dispute',
        ])),
        balance: -(await balance(o.db, account)),
        payouts: payouts.map((p) => ({
          month: p.month,
          amount: Number(p.amount),
          currency: p.currency,
          paidAt: new Date(p.paid_at).toISOString(),
        })),
      };
    },
  );

  app.get(
    '/admin/v1/payments/parked',
    {
      schema: {
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: { 200: ParkedEventList },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      const rows = await WebhookRepository.parked(o.db, request.query.limit ?? 100);
      return {
        items: rows.map((r) => ({
          provider: r.provider,
          eventId: r.event_id,
          type: r.type,
          reason: r.reason ?? '',
          receivedAt: new Date(r.received_at).toISOString(),
        })),
      };
    },
  );

  /** The monthly payout run, on demand; running it twice for a month pays nothing the second time. */
  app.post(
    '/admin/v1/payments/payouts/run',
    { schema: { response: { 200: Type.Object({ paid: Type.Integer(), total: Type.Integer() }) } } },
    async (request) => {
      requireRole(request, 'admin');
      return runPayouts(o.db, new Date(o.clock()));
    },
  );
};
