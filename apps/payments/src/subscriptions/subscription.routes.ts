import Type from 'typebox';
import {
  UsernameParam,
  ChannelSubscriptionOffer,
  CheckoutRequest,
  CheckoutSession,
  MySubscription,
  MySubscriptionList,
} from '@neon/contracts';
import type { Db } from '@neon/db';
import { AppError, requireUser, uuidv7, type FastifyPluginAsyncTypebox } from '@neon/kit';
import { isEntitled } from '../domain/subscription-state.js';
import { TIER_PRICES, TIERS } from '../domain/tiers.js';
import type { CheckoutProvider } from '../checkout/checkout-provider.js';
import { userNamed } from '../events/users.js';
import { SubscriptionRepository as repo, type SubscriptionRow } from './subscription.repository.js';

export interface SubscriptionRoutesOptions {
  db: Db;
  provider: CheckoutProvider | null;
  currency: string;
  publicUrl: string;
}

const IdParam = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f-]+$' });

function mine(row: SubscriptionRow, currency: string): MySubscription {
  return {
    id: row.id,
    channel: row.channel,
    tier: row.tier,
    status: row.status,
    months: row.months,
    price: TIER_PRICES[row.tier],
    currency,
    currentPeriodEnd: row.current_period_end
      ? new Date(row.current_period_end).toISOString()
      : null,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    provider: row.provider,
  };
}

export const subscriptionRoutes: FastifyPluginAsyncTypebox<SubscriptionRoutesOptions> = async (
  app,
  o,
) => {
  async function channelNamed(username: string) {
    const owner = await userNamed(o.db, username);
    if (!owner) throw new AppError('PAYMENTS_CHANNEL_NOT_FOUND', `No channel named ${username}.`);
    return owner;
  }

  app.get(
    '/api/v1/channels/:username/subscription',
    {
      schema: {
        params: Type.Object({ username: UsernameParam }),
        response: { 200: ChannelSubscriptionOffer },
      },
    },
    async (request) => {
      const owner = await channelNamed(request.params.username);
      const client = request.client;
      const row = client ? await repo.latestFor(o.db, client.id, owner.user_id) : null;
      return {
        channel: owner.username,
        tiers: TIERS.map((tier) => ({ tier, price: TIER_PRICES[tier], currency: o.currency })),
        development: o.provider?.name === 'development',
        available: o.provider !== null,
        mine:
          row && row.status !== 'pending'
            ? { tier: row.tier, status: row.status, months: row.months }
            : null,
      };
    },
  );

  app.post(
    '/api/v1/channels/:username/subscription/checkout',
    {
      schema: {
        params: Type.Object({ username: UsernameParam }),
        body: CheckoutRequest,
        response: { 200: CheckoutSession },
      },
    },
    async (request) => {
      const client = requireUser(request);
      const owner = await channelNamed(request.params.username);
      if (owner.user_id === client.id)
        throw new AppError('PAYMENTS_SUBSCRIBE_SELF', 'You cannot subscribe to your own channel.');
      if (!o.provider)
        throw new AppError('PAYMENTS_PROVIDER_DISABLED', 'No payment provider is configured here.');
      const current = await repo.latestFor(o.db, client.id, owner.user_id);
      if (current && isEntitled(current.status))
        throw new AppError(
          'PAYMENTS_ALREADY_SUBSCRIBED',
          `You are subscribed to ${owner.username} already.`,
        );
      const tier = request.body.tier;
      const checkoutId = uuidv7();
      const link = {
        userId: client.id,
        username: client.username,
        channelId: owner.user_id,
        channel: owner.username,
        tier,
      };
      await o.db.query(
        `INSERT INTO payments.checkouts (id, user_id, username, channel_id, channel, tier, provider)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          checkoutId,
          client.id,
          client.username,
          owner.user_id,
          owner.username,
          tier,
          o.provider.name,
        ],
      );
      const base = o.publicUrl.replace(/\/$/, '');
      const session = await o.provider.createCheckout({
        checkoutId,
        link,
        price: TIER_PRICES[tier],
        currency: o.currency,
        successUrl: `${base}/${owner.username}?subscribed=1`,
        cancelUrl: `${base}/${owner.username}`,
      });
      await o.db.query(`UPDATE payments.checkouts SET provider_ref = $2 WHERE id = $1`, [
        checkoutId,
        session.ref,
      ]);
      return { url: session.url, checkoutId };
    },
  );

  app.get(
    '/api/v1/me/subscriptions',
    { schema: { response: { 200: MySubscriptionList } } },
    async (request) => {
      const client = requireUser(request);
      return { items: (await repo.mine(o.db, client.id)).map((r) => mine(r, o.currency)) };
    },
  );

  /** Stops renewing (`cancel: true`) or renews again; the subscription stays until its period ends. */
  app.post(
    '/api/v1/me/subscriptions/:id/cancel',
    {
      schema: {
        params: Type.Object({ id: IdParam }),
        body: Type.Object({ cancel: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: MySubscription },
      },
    },
    async (request) => {
      const client = requireUser(request);
      const rows = await o.db.query<SubscriptionRow>(
        `SELECT * FROM payments.subscriptions WHERE id = $1 AND user_id = $2`,
        [request.params.id, client.id],
      );
      const row = rows[0];
      if (!row)
        throw new AppError('PAYMENTS_SUBSCRIPTION_NOT_FOUND', 'You have no such subscription.');
      if (!isEntitled(row.status))
        throw new AppError('PAYMENTS_SUBSCRIPTION_NOT_FOUND', 'That subscription has ended.');
      if (!o.provider)
        throw new AppError('PAYMENTS_PROVIDER_DISABLED', 'No payment provider is configured here.');
      await o.provider.setCancelAtPeriodEnd(row.provider_ref, request.body.cancel, {
        userId: row.user_id,
        username: row.username,
        channelId: row.channel_id,
        channel: row.channel,
        tier: row.tier,
      });
      const after = await o.db.query<SubscriptionRow>(
        `SELECT * FROM payments.subscriptions WHERE id = $1`,
        [row.id],
      );
      return mine(after[0] ?? row, o.currency);
    },
  );
};
