import type { RevokedSessions, SessionList } from '@neon/contracts';
import { api } from './api';

/**
 * Settings → Security's sessions: where the account is signed in, and
 * signing some of those out (a recent second-factor check first when the
 * account has one: AUTH_STEP_UP_REQUIRED).
 */
export const sessionsApi = api.enhanceEndpoints({ addTagTypes: ['Sessions'] }).injectEndpoints({
  endpoints: (b) => ({
    sessions: b.query<SessionList, void>({
      query: () => 'api/v1/me/sessions',
      providesTags: ['Sessions'],
    }),
    revokeSession: b.mutation<void, string>({
      query: (id) => ({ url: `api/v1/me/sessions/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['Sessions'],
    }),
    revokeOtherSessions: b.mutation<RevokedSessions, void>({
      query: () => ({ url: 'api/v1/me/sessions/revoke-others', method: 'POST', body: {} }),
      invalidatesTags: ['Sessions'],
    }),
  }),
});

export const { useSessionsQuery, useRevokeSessionMutation, useRevokeOtherSessionsMutation } =
  sessionsApi;
