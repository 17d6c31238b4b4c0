import {
  fetchBaseQuery,
  type BaseQueryFn,
  type FetchArgs,
  type FetchBaseQueryError,
} from '@reduxjs/toolkit/query/react';
import type { TokenResponse } from '@neon/contracts';
import { toApiError, type ApiError } from './errors';
import { signedIn, signedOut, type SessionState } from './session';

const raw = fetchBaseQuery({
  baseUrl: '/',
  credentials: 'same-origin',
  prepareHeaders(headers, { getState }) {
    const token = (getState() as { session: SessionState }).session.accessToken;
    if (token) headers.set('authorization', `Bearer ${token}`);
    return headers;
  },
});

/** Every caller that hits a 401 at the same moment waits on this one refresh. */
let refreshing: Promise<TokenResponse | null> | null = null;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Exchanges the refresh cookie for a new access token; null when there is no
 * session. A rate limit or an unavailable service is not a logout: it waits
 * (honouring Retry-After) and tries again a few times before giving up.
 */
export function refreshSession(): Promise<TokenResponse | null> {
  refreshing ??= (async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      let res: Response;
      try {
        res = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
      } catch {
        await wait(1000 * (attempt + 1));
        continue;
      }
      if (res.ok) return (await res.json()) as TokenResponse;
      if (res.status !== 429 && res.status < 500) return null;
      const after = Number(res.headers.get('retry-after'));
      await wait(
        Math.min(15_000, Number.isFinite(after) && after > 0 ? after * 1000 : 1000 * (attempt + 1)),
      );
    }
    return null;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function normalise(error: FetchBaseQueryError): ApiError {
  if (error.status === 'PARSING_ERROR') return toApiError(error.originalStatus, null);
  return toApiError(error.status, 'data' in error ? error.data : null);
}

/**
 * Calls whose 401 is about the credentials sent (a wrong password, a dead
 * refresh token), not the access token: a refresh would not help. A socket
 * ticket is not one of them: its 401 is a stale access token like any other.
 */
const CREDENTIAL_CALL = /^api\/v1\/auth\/(login|register|refresh|logout|mfa)\b/;

/**
 * Attaches the in-memory access token; on a 401 refreshes once through the
 * cookie and retries, so a token that expired mid-session is invisible to the
 * user. Errors come out as ApiError (code + readable message + fields).
 */
export const baseQuery: BaseQueryFn<string | FetchArgs, unknown, ApiError> = async (
  args,
  api,
  extra,
) => {
  let result = await raw(args, api, extra);
  const url = typeof args === 'string' ? args : args.url;
  const hadToken = Boolean((api.getState() as { session: SessionState }).session.accessToken);
  if (result.error?.status === 401 && hadToken && !CREDENTIAL_CALL.test(url)) {
    const fresh = await refreshSession();
    if (fresh) {
      api.dispatch(signedIn(fresh));
      result = await raw(args, api, extra);
    } else {
      api.dispatch(signedOut());
    }
  }
  if (result.error) return { error: normalise(result.error), meta: result.meta };
  return { data: result.data, meta: result.meta };
};
