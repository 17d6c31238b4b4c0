import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { AppError } from '@neon/kit';
import type { SubscriptionLink } from '../webhooks/stripe-events.js';
import { metadataFor } from '../webhooks/stripe-events.js';
import { signStripePayload } from '../webhooks/stripe-signature.js';

export interface CheckoutInput {
  checkoutId: string;
  link: SubscriptionLink;
  price: number;
  currency: string;
  successUrl: string;
  cancelUrl: string;
}

/** Where a checkout happens and how a subscription is told to stop renewing. */
export interface CheckoutProvider {
  readonly name: 'stripe' | 'development';
  /** Payments go through this provider's webhooks (`/webhooks/<provider>`). */
  readonly webhookProvider: 'stripe';
  createCheckout(input: CheckoutInput): Promise<{ url: string; ref: string }>;
  /** Asks the provider to stop (or resume) renewing; the change itself arrives by webhook. */
  setCancelAtPeriodEnd(ref: string, cancel: boolean, link: SubscriptionLink): Promise<void>;
}

function providerUnavailable(err: unknown): AppError {
  return new AppError(
    'PAYMENTS_PROVIDER_UNAVAILABLE',
    'The payment provider did not answer; try again.',
    {
      cause: err,
    },
  );
}

/** Stripe Checkout through the official SDK; `apiUrl` points it at a stand-in (tests). */
export function stripeCheckout(secretKey: string, apiUrl?: string): CheckoutProvider {
  const target = apiUrl ? new URL(apiUrl) : null;
  const stripe = new Stripe(secretKey, {
    maxNetworkRetries: 1,
    timeout: 10_000,
    ...(target
      ? {
          host: target.hostname,
          port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
          protocol: target.protocol === 'http:' ? 'http' : 'https',
        }
      : {}),
  });
  return {
    name: 'stripe',
    webhookProvider: 'stripe',
    async createCheckout(i) {
      const metadata = metadataFor(i.link, i.checkoutId);
      try {
        const session = await stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            client_reference_id: i.checkoutId,
            line_items: [
              {
                quantity: 1,
                price_data: {
                  currency: i.currency,
                  unit_amount: i.price,
                  recurring: { interval: 'month' },
                  product_data: { name: `${i.link.channel} subscription (${i.link.tier})` },
                },
              },
            ],
            metadata,
            subscription_data: { metadata },
            success_url: i.successUrl,
            cancel_url: i.cancelUrl,
          },
          { idempotencyKey: `checkout-${i.checkoutId}` },
        );
        if (!session.url) throw new Error('Stripe answered a session without a url');
        return { url: session.url, ref: session.id };
      } catch (err) {
        throw providerUnavailable(err);
      }
    },
    async setCancelAtPeriodEnd(ref, cancel) {
      try {
        await stripe.subscriptions.update(ref, { cancel_at_period_end: cancel });
      } catch (err) {
        throw providerUnavailable(err);
      }
    },
  };
}

/**
 * The development provider: no money moves. A checkout completes at once by
 * sending Stripe-shaped events, signed with the webhook secret, through the
 * same webhook path real Stripe events take (`post`).
 */
export function developmentCheckout(
  secret: string,
  clock: () => number,
  post: (body: string, signature: string) => Promise<void>,
): CheckoutProvider {
  let seq = 0;
  const send = async (type: string, object: Record<string, unknown>) => {
    const now = clock();
    const body = JSON.stringify({
      id: `evt_dev_${randomUUID()}`,
      object: 'event',
      type,
      // One second apart at least, so the provider order is the order sent.
      created: Math.floor(now / 1000) + seq++,
      livemode: false,
      data: { object },
    });
    await post(body, signStripePayload(body, [secret], now));
  };
  return {
    name: 'development',
    webhookProvider: 'stripe',
    async createCheckout(i) {
      const sub = `sub_dev_${randomUUID()}`;
      const metadata = metadataFor(i.link, i.checkoutId);
      const start = Math.floor(clock() / 1000);
      const end = start + 30 * 86_400;
      await send('checkout.session.completed', {
        id: `cs_dev_${i.checkoutId}`,
        object: 'checkout.session',
        mode: 'subscription',
        subscription: sub,
        metadata,
      });
      await send('customer.subscription.created', {
        id: sub,
        object: 'subscription',
        status: 'active',
        cancel_at_period_end: false,
        metadata,
      });
      await send('invoice.paid', {
        id: `in_dev_${randomUUID()}`,
        object: 'invoice',
        subscription: sub,
        subscription_details: { metadata },
        amount_paid: i.price,
        currency: i.currency,
        charge: `ch_dev_${randomUUID()}`,
        lines: { data: [{ period: { start, end } }] },
      });
      return { url: i.successUrl, ref: `cs_dev_${i.checkoutId}` };
    },
    async setCancelAtPeriodEnd(ref, cancel, link) {
      await send('customer.subscription.updated', {
        id: ref,
        object: 'subscription',
        status: 'active',
        cancel_at_period_end: cancel,
        metadata: metadataFor(link, 'dev'),
      });
    },
  };
}
