import Type from 'typebox';

export const paymentsEvents = {
  'payments.subscription.activated.v1': Type.Object({
    subscriptionId: Type.String(),
    userId: Type.String(),
    channel: Type.String(),
    tier: Type.String(),
    currentPeriodEnd: Type.String(),
  }),
};
