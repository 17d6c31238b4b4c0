import type {
  AuthorizePreview,
  AuthorizeRedirect,
  ConnectedAppList,
  ConsentRequest,
  CreateOAuthAppRequest,
  OAuthApp,
  OAuthAppList,
  OAuthAppWithSecret,
  UpdateOAuthAppRequest,
} from '@neon/contracts';
import { api } from './api';

const u = encodeURIComponent;

/**
 * OAuth 2.0 for third-party apps: the developer console (`/developers`), the
 * consent screen (`/oauth/authorize`) and Settings → Security's connected apps.
 * A client secret comes back from create and rotate only; it is never written
 * into the cached list, so it is gone once the page that showed it is.
 */
export const oauthApi = api
  .enhanceEndpoints({ addTagTypes: ['OAuthApps', 'OAuthConnections'] })
  .injectEndpoints({
    endpoints: (b) => ({
      oauthApps: b.query<OAuthAppList, void>({
        query: () => 'api/v1/oauth/apps',
        providesTags: ['OAuthApps'],
      }),
      createOAuthApp: b.mutation<OAuthAppWithSecret, CreateOAuthAppRequest>({
        query: (body) => ({ url: 'api/v1/oauth/apps', method: 'POST', body }),
        invalidatesTags: ['OAuthApps'],
      }),
      updateOAuthApp: b.mutation<OAuthApp, { clientId: string } & UpdateOAuthAppRequest>({
        query: ({ clientId, ...body }) => ({
          url: `api/v1/oauth/apps/${u(clientId)}`,
          method: 'PATCH',
          body,
        }),
        invalidatesTags: ['OAuthApps'],
      }),
      rotateOAuthSecret: b.mutation<OAuthAppWithSecret, string>({
        query: (clientId) => ({
          url: `api/v1/oauth/apps/${u(clientId)}/secret`,
          method: 'POST',
          body: {},
        }),
        invalidatesTags: ['OAuthApps'],
      }),
      /** Deleting an app also ends every user's connection to it. */
      deleteOAuthApp: b.mutation<void, string>({
        query: (clientId) => ({ url: `api/v1/oauth/apps/${u(clientId)}`, method: 'DELETE' }),
        invalidatesTags: ['OAuthApps', 'OAuthConnections'],
      }),

      /** The consent screen's facts for an authorization request, passed on as the app sent it. */
      authorizePreview: b.query<AuthorizePreview, string>({
        query: (search) => `api/v1/oauth/authorize?${search}`,
        keepUnusedDataFor: 0,
      }),
      /** The user's answer; the server says where the browser goes next. */
      consent: b.mutation<AuthorizeRedirect, ConsentRequest>({
        query: (body) => ({ url: 'api/v1/oauth/authorize', method: 'POST', body }),
        invalidatesTags: (_r, _e, { allowed }) => (allowed ? ['OAuthConnections'] : []),
      }),

      connectedApps: b.query<ConnectedAppList, void>({
        query: () => 'api/v1/oauth/connections',
        providesTags: ['OAuthConnections'],
      }),
      /** Removes the app from the list at once; it comes back if the server refuses. */
      disconnectApp: b.mutation<void, string>({
        query: (grantId) => ({ url: `api/v1/oauth/connections/${u(grantId)}`, method: 'DELETE' }),
        async onQueryStarted(grantId, { dispatch, queryFulfilled }) {
          const patch = dispatch(
            oauthApi.util.updateQueryData('connectedApps', undefined, (list) => {
              list.items = list.items.filter((c) => c.grantId !== grantId);
            }),
          );
          try {
            await queryFulfilled;
          } catch {
            patch.undo();
          }
        },
        invalidatesTags: ['OAuthConnections'],
      }),
    }),
  });

export const {
  useOauthAppsQuery,
  useCreateOAuthAppMutation,
  useUpdateOAuthAppMutation,
  useRotateOAuthSecretMutation,
  useDeleteOAuthAppMutation,
  useAuthorizePreviewQuery,
  useConsentMutation,
  useConnectedAppsQuery,
  useDisconnectAppMutation,
} = oauthApi;
