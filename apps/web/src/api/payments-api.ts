import type {
  ChannelRevenue,
  ChannelSubscriptionOffer,
  CheckoutSession,
  MySubscription,
  MySubscriptionList,
  SubscriptionTier,
} from '@neon/contracts';
import { api } from './api';

const u = encodeURIComponent;

/**
 * Paid channel subscriptions: the channel page's offer and checkout, Settings
 * → Subscriptions, and the dashboard's subscribers and revenue.
 *
 * A provider reports a change by webhook, after it answered the request that
 * asked for it: a cancel's answer may not show the cancel yet. The answer is
 * written into the list with the change the provider accepted, and the
 * channel's offer is asked again.
 */
export const paymentsApi = api
  .enhanceEndpoints({ addTagTypes: ['ChannelSubscription', 'MySubscriptions', 'Revenue'] })
  .injectEndpoints({
    endpoints: (b) => ({
      /** The tiers a channel offers and the caller's own subscription to it, if any. */
      channelSubscription: b.query<ChannelSubscriptionOffer, string>({
        query: (username) => `api/v1/channels/${u(username)}/subscription`,
        providesTags: (_r, _e, username) => [{ type: 'ChannelSubscription', id: username }],
      }),
      /** Starts a checkout; the caller sends the browser to the answer's `url`. */
      checkout: b.mutation<CheckoutSession, { username: string; tier: SubscriptionTier }>({
        query: ({ username, tier }) => ({
          url: `api/v1/channels/${u(username)}/subscription/checkout`,
          method: 'POST',
          body: { tier },
        }),
      }),
      mySubscriptions: b.query<MySubscriptionList, void>({
        query: () => 'api/v1/me/subscriptions',
        providesTags: ['MySubscriptions'],
      }),
      /** Stops renewing (`cancel: true`) or renews again; it stays active until its period ends. */
      setCancelAtPeriodEnd: b.mutation<MySubscription, { id: string; cancel: boolean }>({
        query: ({ id, cancel }) => ({
          url: `api/v1/me/subscriptions/${u(id)}/cancel`,
          method: 'POST',
          body: { cancel },
        }),
        async onQueryStarted({ id, cancel }, { dispatch, queryFulfilled }) {
          try {
            const { data } = await queryFulfilled;
            const accepted = withCancel(data, cancel);
            dispatch(
              paymentsApi.util.updateQueryData('mySubscriptions', undefined, (list) => {
                list.items = list.items.map((s) => (s.id === id ? accepted : s));
              }),
            );
            dispatch(
              paymentsApi.util.invalidateTags([{ type: 'ChannelSubscription', id: data.channel }]),
            );
          } catch {
            // The page shows the error.
          }
        },
      }),
      revenue: b.query<ChannelRevenue, void>({
        query: () => 'api/v1/me/revenue',
        providesTags: ['Revenue'],
      }),
    }),
  });

/** A subscription with a cancel (or resume) the provider accepted, before its webhook is in. */
export function withCancel(s: MySubscription, cancel: boolean): MySubscription {
  if (s.status === 'expired' || s.status === 'pending') return s;
  const status =
    cancel && s.status === 'active'
      ? 'canceled'
      : !cancel && s.status === 'canceled'
        ? 'active'
        : s.status;
  return { ...s, cancelAtPeriodEnd: cancel, status };
}

export const {
  useChannelSubscriptionQuery,
  useCheckoutMutation,
  useMySubscriptionsQuery,
  useSetCancelAtPeriodEndMutation,
  useRevenueQuery,
} = paymentsApi;
