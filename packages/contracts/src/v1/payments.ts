import Type, { type Static } from 'typebox';

/** HTTP bodies of the payments service (v1). */

export const SubscriptionTier = Type.Union([
  Type.Literal('tier1'),
  Type.Literal('tier2'),
  Type.Literal('tier3'),
]);
export type SubscriptionTier = Static<typeof SubscriptionTier>;

export const SubscriptionStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('active'),
  Type.Literal('past_due'),
  Type.Literal('canceled'),
  Type.Literal('expired'),
]);
export type SubscriptionStatus = Static<typeof SubscriptionStatus>;

/** A tier as a channel offers it; `price` in minor units of `currency`. */
export const TierOffer = Type.Object({
  tier: SubscriptionTier,
  price: Type.Integer(),
  currency: Type.String(),
});
export type TierOffer = Static<typeof TierOffer>;

/** What the channel page shows: the tiers, and the viewer's own subscription if any. */
export const ChannelSubscriptionOffer = Type.Object({
  channel: Type.String(),
  tiers: Type.Array(TierOffer),
  /** Checkout goes through the development provider: no money moves. */
  development: Type.Boolean(),
  /** A provider is configured: the subscribe button can work. */
  available: Type.Boolean(),
  mine: Type.Union([
    Type.Null(),
    Type.Object({ tier: SubscriptionTier, status: SubscriptionStatus, months: Type.Integer() }),
  ]),
});
export type ChannelSubscriptionOffer = Static<typeof ChannelSubscriptionOffer>;

export const CheckoutRequest = Type.Object(
  { tier: SubscriptionTier },
  { additionalProperties: false },
);
export type CheckoutRequest = Static<typeof CheckoutRequest>;

/** Where to send the browser to pay. */
export const CheckoutSession = Type.Object({ url: Type.String(), checkoutId: Type.String() });
export type CheckoutSession = Static<typeof CheckoutSession>;

export const MySubscription = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  tier: SubscriptionTier,
  status: SubscriptionStatus,
  months: Type.Integer(),
  price: Type.Integer(),
  currency: Type.String(),
  currentPeriodEnd: Type.Union([Type.String(), Type.Null()]),
  cancelAtPeriodEnd: Type.Boolean(),
  provider: Type.String(),
});
export type MySubscription = Static<typeof MySubscription>;

export const MySubscriptionList = Type.Object({ items: Type.Array(MySubscription) });
export type MySubscriptionList = Static<typeof MySubscriptionList>;

export const PayoutEntry = Type.Object({
  month: Type.String({ description: 'YYYY-MM' }),
  amount: Type.Integer(),
  currency: Type.String(),
  paidAt: Type.String(),
});
export type PayoutEntry = Static<typeof PayoutEntry>;

/** The streamer's dashboard: subscribers by tier, this month's revenue (their share), payouts. */
export const ChannelRevenue = Type.Object({
  currency: Type.String(),
  subscribers: Type.Object({ tier1: Type.Integer(), tier2: Type.Integer(), tier3: Type.Integer() }),
  /** The streamer's share of this month's payments, less refunds, in minor units. */
  revenueThisMonth: Type.Integer(),
  /** Earned and not yet paid out. */
  balance: Type.Integer(),
  payouts: Type.Array(PayoutEntry),
});
export type ChannelRevenue = Static<typeof ChannelRevenue>;

/** A verified webhook event that could not be matched to a user or channel. */
export const ParkedEvent = Type.Object({
  provider: Type.String(),
  eventId: Type.String(),
  type: Type.String(),
  reason: Type.String(),
  receivedAt: Type.String(),
});
export const ParkedEventList = Type.Object({ items: Type.Array(ParkedEvent) });
export type ParkedEventList = Static<typeof ParkedEventList>;
