import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { OutboxRelay, type Subscription } from '@neon/bus';
import { requireRole } from '@neon/kit';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import {
  developmentCheckout,
  stripeCheckout,
  type CheckoutProvider,
} from './checkout/checkout-provider.js';
import { paymentsSpec, type PaymentsConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { subscribeUsers } from './events/users.js';
import { revenueRoutes } from './revenue/revenue.routes.js';
import { subscriptionRoutes } from './subscriptions/subscription.routes.js';
import { SubscriptionService, sweepClock } from './subscriptions/subscription.service.js';
import { EventProcessor } from './webhooks/event-processor.js';
import { readStripeEvent } from './webhooks/stripe-events.js';
import type { StripeEventEnvelope } from './webhooks/stripe-signature.js';
import { webhookRoutes } from './webhooks/webhook.routes.js';

export const SCHEMA = 'payments';

/** What tests and the all-in-one launcher may reach beyond the service. */
export interface PaymentsService extends Service {
  /** Processes every stored event that is due now. */
  processEvents(): Promise<void>;
  /** Runs the clock over subscriptions whose period ended. */
  sweep(): Promise<number>;
}

/** Builds the payments service (payment provider webhooks and channel subscriptions) from its dependencies; never listens. */
export async function buildApp(
  platform: Platform,
  config: PaymentsConfig,
): Promise<PaymentsService> {
  const { logger, server } = await serviceServer(platform, {
    name: 'payments',
    schema: SCHEMA,
    migrations,
  });
  const db = platform.db;
  // The development provider's clock can be moved forward (its test hook); the real one cannot.
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const graceMs = config.PAYMENTS_GRACE_HOURS * 3_600_000;

  const stripeSecrets = (config.STRIPE_WEBHOOK_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let provider: CheckoutProvider | null = null;
  if (config.PAYMENTS_DEV_PROVIDER) {
    // Signs with the configured secret, or one of its own that only this process knows.
    const secret = stripeSecrets[0] ?? `whsec_dev_${randomBytes(24).toString('base64url')}`;
    if (stripeSecrets.length === 0) stripeSecrets.push(secret);
    provider = developmentCheckout(secret, clock, async (body, signature) => {
      const res = await server.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload: body,
      });
      if (res.statusCode !== 200)
        throw new Error(`the development provider's event was refused: ${res.body}`);
    });
    logger.warn('the development payment provider is on: checkouts complete without payment');
  } else if (config.STRIPE_SECRET_KEY) {
    provider = stripeCheckout(config.STRIPE_SECRET_KEY, config.STRIPE_API_URL);
  }

  const relay = new OutboxRelay(db, platform.bus, logger, { schema: SCHEMA });
  relay.registerMetrics(server.metrics);
  const service = new SubscriptionService(
    { graceMs, platformShareBps: config.PAYMENTS_PLATFORM_SHARE_PERCENT * 100 },
    clock,
  );
  const processor = new EventProcessor(db, service, logger, {
    read: (_provider, body) => readStripeEvent(JSON.parse(body) as StripeEventEnvelope),
    maxAttempts: config.PAYMENTS_MAX_ATTEMPTS,
    retryMs: config.PAYMENTS_RETRY_MS,
    clock,
    applied: () => relay.kick(),
  });

  await server.register(webhookRoutes, {
    db,
    stripeSecrets,
    maxBytes: config.PAYMENTS_WEBHOOK_MAX_BYTES,
    clock,
    stored: () => processor.kick(),
  });
  await server.register(subscriptionRoutes, {
    db,
    provider,
    currency: config.PAYMENTS_CURRENCY,
    publicUrl: platform.publicUrl,
  });
  await server.register(revenueRoutes, { db, currency: config.PAYMENTS_CURRENCY, clock });

  const sweep = async () => {
    const n = await sweepClock(db, service, clock(), graceMs);
    if (n > 0) relay.kick();
    return n;
  };
  if (config.PAYMENTS_DEV_PROVIDER) {
    server.post(
      '/admin/v1/payments/dev/clock',
      {
        schema: {
          body: Type.Object(
            { advanceSeconds: Type.Integer({ minimum: 0, maximum: 366 * 86_400 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => {
        requireRole(request, 'admin');
        offsetMs += request.body.advanceSeconds * 1000;
        await sweep();
        return { now: new Date(clock()).toISOString() };
      },
    );
  }

  let users: Subscription | null = null;
  let sweeper: NodeJS.Timeout | null = null;
  return {
    name: 'payments',
    server,
    async start() {
      users = await subscribeUsers(platform.bus, db, SCHEMA);
      relay.start();
      processor.start();
      sweeper = setInterval(() => {
        sweep().catch((err: unknown) => logger.error({ err }, 'subscription clock sweep failed'));
      }, 60_000);
      sweeper.unref();
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      await processor.stop();
      await relay.stop();
      await users?.close();
    },
    processEvents: () => processor.drain(),
    sweep,
  };
}

export const paymentsService: ServiceModule<typeof paymentsSpec> = {
  name: 'payments',
  spec: paymentsSpec,
  listen: (c) => ({ host: c.PAYMENTS_HOST, port: c.PAYMENTS_PORT }),
  build: buildApp,
};
