import type { SubscriptionTier } from '@neon/contracts';
import type { SubscriptionFact } from '../domain/subscription-state.js';
import { isTier } from '../domain/tiers.js';
import type { StripeEventEnvelope } from './stripe-signature.js';

/** Who subscribes to what, as Neon wrote it into the checkout's and subscription's metadata. */
export interface SubscriptionLink {
  userId: string;
  username: string;
  channelId: string;
  channel: string;
  tier: SubscriptionTier;
}

/** What one provider event means, in provider-neutral terms. */
export type ProviderUpdate =
  | { kind: 'ignored'; reason: string }
  | {
      kind: 'subscription';
      /** The provider's subscription id. */
      ref: string;
      link: SubscriptionLink | null;
      facts: SubscriptionFact[];
      /** A paid invoice to record in the ledger. */
      payment: {
        invoice: string;
        amount: number;
        currency: string;
        chargeRef: string | null;
      } | null;
    }
  | {
      kind: 'reversal';
      /** A refund or dispute: money taken back from a payment found by invoice or charge. */
      reason: 'refund' | 'dispute';
      key: string;
      invoice: string | null;
      /** The charge and payment intent ids it names, to find the payment by. */
      refs: string[];
      /** The total taken back from this charge so far (refunds are cumulative in Stripe). */
      amount: number;
      at: number;
    };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
/** An expandable Stripe field: an id, or the object with its id. */
const idOf = (v: unknown): string | null => str(v) ?? (isObj(v) ? str(v.id) : null);

export function linkFrom(metadata: unknown): SubscriptionLink | null {
  if (!isObj(metadata)) return null;
  const userId = str(metadata.neon_user_id);
  const username = str(metadata.neon_username);
  const channelId = str(metadata.neon_channel_id);
  const channel = str(metadata.neon_channel);
  const tier = metadata.neon_tier;
  if (!userId || !username || !channelId || !channel || !isTier(tier)) return null;
  return { userId, username, channelId, channel, tier };
}

/** The metadata Neon writes on a checkout and its subscription. */
export function metadataFor(link: SubscriptionLink, checkoutId: string): Record<string, string> {
  return {
    neon_checkout_id: checkoutId,
    neon_user_id: link.userId,
    neon_username: link.username,
    neon_channel_id: link.channelId,
    neon_channel: link.channel,
    neon_tier: link.tier,
  };
}

/** The subscription an invoice belongs to, and its metadata, across Stripe API versions. */
function invoiceSubscription(inv: Obj): { ref: string | null; metadata: unknown } {
  const parent = isObj(inv.parent) ? inv.parent : null;
  const details = parent && isObj(parent.subscription_details) ? parent.subscription_details : null;
  const legacy = isObj(inv.subscription_details) ? inv.subscription_details : null;
  return {
    ref: idOf(inv.subscription) ?? idOf(details?.subscription),
    metadata: details?.metadata ?? legacy?.metadata,
  };
}

/** The period an invoice pays for: its first subscription line's (seconds), as ms. */
function invoicePeriod(inv: Obj): { start: number; end: number } | null {
  const lines = isObj(inv.lines) && Array.isArray(inv.lines.data) ? inv.lines.data : [];
  for (const line of lines) {
    if (!isObj(line) || !isObj(line.period)) continue;
    const start = int(line.period.start);
    const end = int(line.period.end);
    if (start !== null && end !== null && end > start)
      return { start: start * 1000, end: end * 1000 };
  }
  return null;
}

/** Reads one verified Stripe event. Unknown types and shapes are ignored with a reason, never thrown. */
export function readStripeEvent(event: StripeEventEnvelope): ProviderUpdate {
  const o = event.data.object;
  const at = event.created * 1000;
  switch (event.type) {
    case 'checkout.session.completed': {
      const ref = idOf(o.subscription);
      if (o.mode !== 'subscription' || !ref)
        return { kind: 'ignored', reason: 'not a subscription checkout' };
      return { kind: 'subscription', ref, link: linkFrom(o.metadata), facts: [], payment: null };
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const ref = str(o.id);
      if (!ref) return { kind: 'ignored', reason: 'subscription without an id' };
      const link = linkFrom(o.metadata);
      const facts: SubscriptionFact[] = [];
      if (
        event.type === 'customer.subscription.deleted' ||
        o.status === 'canceled' ||
        o.status === 'incomplete_expired'
      )
        facts.push({ kind: 'ended', at });
      else facts.push({ kind: 'cancel', at, atPeriodEnd: o.cancel_at_period_end === true });
      if (link) facts.push({ kind: 'tier', at, tier: link.tier });
      return { kind: 'subscription', ref, link, facts, payment: null };
    }
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const { ref, metadata } = invoiceSubscription(o);
      const invoice = str(o.id);
      const period = invoicePeriod(o);
      if (!ref || !invoice || !period)
        return { kind: 'ignored', reason: 'invoice without a subscription, id or period' };
      const link = linkFrom(metadata);
      if (event.type === 'invoice.payment_failed')
        return {
          kind: 'subscription',
          ref,
          link,
          facts: [{ kind: 'payment_failed', at, periodEnd: period.end }],
          payment: null,
        };
      const amount = int(o.amount_paid);
      const currency = str(o.currency);
      if (amount === null || amount < 0 || !currency)
        return { kind: 'ignored', reason: 'paid invoice without an amount or currency' };
      return {
        kind: 'subscription',
        ref,
        link,
        facts: [{ kind: 'paid', at, invoice, ...period }],
        payment: { invoice, amount, currency, chargeRef: idOf(o.charge) ?? idOf(o.payment_intent) },
      };
    }
    case 'charge.refunded': {
      const charge = str(o.id);
      const amount = int(o.amount_refunded);
      if (!charge || amount === null || amount <= 0)
        return { kind: 'ignored', reason: 'refund without a charge or amount' };
      return {
        kind: 'reversal',
        reason: 'refund',
        key: `refund:stripe:${charge}:${amount}`,
        invoice: idOf(o.invoice),
        refs: [charge, idOf(o.payment_intent)].filter((r): r is string => r !== null),
        amount,
        at,
      };
    }
    case 'charge.dispute.created': {
      const dispute = str(o.id);
      const amount = int(o.amount);
      const charge = idOf(o.charge);
      if (!dispute || !charge || amount === null || amount <= 0)
        return { kind: 'ignored', reason: 'dispute without an id, charge or amount' };
      return {
        kind: 'reversal',
        reason: 'dispute',
        key: `dispute:stripe:${dispute}`,
        invoice: null,
        refs: [charge, idOf(o.payment_intent)].filter((r): r is string => r !== null),
        amount,
        at,
      };
    }
    default:
      return { kind: 'ignored', reason: `event type ${event.type} is not used` };
  }
}
