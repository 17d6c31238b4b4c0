import { AppError, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { Db } from '@neon/db';
import { verifyStripeEvent } from './stripe-signature.js';
import { WebhookRepository } from './webhook.repository.js';

export interface WebhookRoutesOptions {
  db: Db;
  /** Stripe's webhook signing secrets; empty: Stripe is not configured. */
  stripeSecrets: readonly string[];
  maxBytes: number;
  clock: () => number;
  /** Called once an event is stored (starts its processing). */
  stored: () => void;
}

/**
 * `POST /webhooks/<provider>`: the raw body is verified, stored once per
 * provider event id, and answered; processing happens afterwards, from the
 * table. Nothing is stored for a request that fails a check.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, o) => {
  // The signature covers the exact bytes: keep them, in this scope only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: o.maxBytes },
    (_request, body, done) => done(null, body),
  );

  app.post('/webhooks/stripe', async (request) => {
    if (o.stripeSecrets.length === 0)
      throw new AppError('PAYMENTS_PROVIDER_DISABLED', 'Stripe is not configured here.');
    const raw = request.body;
    if (!Buffer.isBuffer(raw) || raw.length === 0)
      throw new AppError('PAYMENTS_EVENT_MALFORMED', 'The body is empty.');
    const event = verifyStripeEvent(
      raw,
      request.headers['stripe-signature'],
      o.stripeSecrets,
      o.clock(),
    );
    const stored = await WebhookRepository.store(o.db, {
      provider: 'stripe',
      eventId: event.id,
      type: event.type,
      body: raw.toString('utf8'),
      createdAt: new Date(event.created * 1000),
    });
    if (stored) o.stored();
    return { received: true, duplicate: !stored };
  });
};
