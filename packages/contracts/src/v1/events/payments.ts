import Type from 'typebox';

const SubscriptionTierSchema = Type.Union([
  Type.Literal('tier1'),
  Type.Literal('tier2'),
  Type.Literal('tier3'),
]);
const SubscriptionStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('active'),
  Type.Literal('past_due'),
  Type.Literal('canceled'),
  Type.Literal('expired'),
]);

/**
 * Every subscription event carries the whole subscription as it is after the
 * change: `userId`/`username` subscribe to `channel` (owned by `channelId`).
 * `version` grows with each change of one subscription, so a consumer keeps
 * the highest and ignores an older one delivered late. `entitled` says whether
 * the subscriber has the benefits now (badge, subscribers-only chat).
 */
const SubscriptionEvent = Type.Object({
  subscriptionId: Type.String(),
  userId: Type.String(),
  username: Type.String(),
  channel: Type.String(),
  channelId: Type.String(),
  tier: SubscriptionTierSchema,
  status: SubscriptionStatusSchema,
  entitled: Type.Boolean(),
  months: Type.Integer({ minimum: 0 }),
  currentPeriodEnd: Type.Union([Type.String(), Type.Null()]),
  cancelAtPeriodEnd: Type.Boolean(),
  version: Type.Integer({ minimum: 1 }),
});

export const paymentsEvents = {
  /** The first payment went through: the subscriber has the benefits from now. */
  'payments.subscription.activated.v1': SubscriptionEvent,
  /** Another period was paid (or access came back after an expiry by a newer payment). */
  'payments.subscription.renewed.v1': SubscriptionEvent,
  /** It will not renew; the benefits stay until `currentPeriodEnd`. */
  'payments.subscription.canceled.v1': SubscriptionEvent,
  /** The benefits ended (period over, provider ended it, refund or dispute). */
  'payments.subscription.expired.v1': SubscriptionEvent,
};
