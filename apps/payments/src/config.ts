import { env, type ConfigOf } from '@neon/kit';

export const paymentsSpec = {
  PAYMENTS_HOST: env.string('127.0.0.1'),
  PAYMENTS_PORT: env.port(8106),
  /** The platform currency (ISO 4217, lower case); every price and ledger amount is in its minor units. */
  PAYMENTS_CURRENCY: env.string('usd'),
  /** The platform's share of each payment, in percent; the streamer gets the rest. */
  PAYMENTS_PLATFORM_SHARE_PERCENT: env.int(50, 0, 100),
  /** How long access outlives an unpaid period (a late renewal, a payment being retried). */
  PAYMENTS_GRACE_HOURS: env.int(72, 0),
  /** The largest webhook body accepted, in bytes. */
  PAYMENTS_WEBHOOK_MAX_BYTES: env.int(262_144, 1024),
  /** Tries before an event that cannot be applied is parked for admins. */
  PAYMENTS_MAX_ATTEMPTS: env.int(8, 1),
  /** The first retry's delay; each next one doubles it. */
  PAYMENTS_RETRY_MS: env.int(5000, 1),
  /** Checkout without a provider: completes by sending itself signed Stripe events. Never in production. */
  PAYMENTS_DEV_PROVIDER: env.bool(false),
  /** Stripe API key (sk_...): enables Stripe Checkout. */
  STRIPE_SECRET_KEY: env.optionalString(),
  /** Stripe webhook signing secrets (whsec_...), comma-separated during a rotation. */
  STRIPE_WEBHOOK_SECRET: env.optionalString(),
  /** Another Stripe API address (protocol://host:port), for a local stand-in. */
  STRIPE_API_URL: env.optionalString(),
};

export type PaymentsConfig = ConfigOf<typeof paymentsSpec>;
