import type { ConsoleEventSubList } from '@neon/contracts';
import { api } from './api';

const u = encodeURIComponent;

/**
 * An application's webhooks (EventSub) in the developer console, asked of
 * channels with the owner's session (the app itself uses /public/v1 with its
 * token). Pages follow the list's cursor; a refetch asks for every page shown.
 */
export const eventsubApi = api.enhanceEndpoints({ addTagTypes: ['AppWebhooks'] }).injectEndpoints({
  endpoints: (b) => ({
    appWebhooks: b.infiniteQuery<ConsoleEventSubList, string, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (last) => last.nextCursor,
      },
      query: ({ queryArg: clientId, pageParam }) =>
        `api/v1/eventsub/apps/${u(clientId)}/subscriptions${
          pageParam ? `?cursor=${u(pageParam)}` : ''
        }`,
      providesTags: (_r, _e, clientId) => [{ type: 'AppWebhooks', id: clientId }],
      // A status is only as fresh as the last answer: nothing is kept for the next visit.
      keepUnusedDataFor: 0,
    }),
    deleteAppWebhook: b.mutation<void, { clientId: string; id: string }>({
      query: ({ clientId, id }) => ({
        url: `api/v1/eventsub/apps/${u(clientId)}/subscriptions/${u(id)}`,
        method: 'DELETE',
      }),
      // A refused delete leaves the list as it is, so the dialog can say why.
      invalidatesTags: (_r, error, { clientId }) =>
        error ? [] : [{ type: 'AppWebhooks', id: clientId }],
    }),
  }),
});

export const { useAppWebhooksInfiniteQuery, useDeleteAppWebhookMutation } = eventsubApi;
