import type {
  AccessTokenOnly,
  MfaStatus,
  MfaVerifyRequest,
  RecoveryCodes,
  StepUpResponse,
  TokenResponse,
  TotpEnrolment,
} from '@neon/contracts';
import { api } from './api';
import { signedIn, tokenRenewed } from './session';

/** Applies a new access token of the same session, then lets every query ask again. */
async function renewOnSuccess(
  queryFulfilled: Promise<{ data: { accessToken: string } }>,
  dispatch: (action: unknown) => unknown,
) {
  try {
    const { data } = await queryFulfilled;
    dispatch(tokenRenewed(data.accessToken));
  } catch {
    // The component that fired the mutation shows the error.
  }
}

/** Second factors: the second step of a sign-in, step-up, Settings → Security. */
export const accountApi = api.enhanceEndpoints({ addTagTypes: ['Mfa'] }).injectEndpoints({
  endpoints: (b) => ({
    mfaSignIn: b.mutation<TokenResponse, MfaVerifyRequest>({
      query: (body) => ({ url: 'api/v1/auth/mfa', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(signedIn(data));
          dispatch(api.util.resetApiState());
        } catch {
          // The login page shows the error.
        }
      },
    }),
    stepUp: b.mutation<StepUpResponse, { code: string }>({
      query: (body) => ({ url: 'api/v1/auth/step-up', method: 'POST', body }),
      invalidatesTags: ['Mfa'],
      onQueryStarted: (_arg, { dispatch, queryFulfilled }) =>
        renewOnSuccess(queryFulfilled, dispatch),
    }),
    mfaStatus: b.query<MfaStatus, void>({
      query: () => 'api/v1/me/mfa',
      providesTags: ['Mfa'],
    }),
    beginTotp: b.mutation<TotpEnrolment, void>({
      query: () => ({ url: 'api/v1/me/mfa/totp', method: 'POST', body: {} }),
    }),
    confirmTotp: b.mutation<RecoveryCodes, { code: string }>({
      query: (body) => ({ url: 'api/v1/me/mfa/totp/confirm', method: 'POST', body }),
      invalidatesTags: ['Mfa'],
      onQueryStarted: (_arg, { dispatch, queryFulfilled }) =>
        renewOnSuccess(queryFulfilled, dispatch),
    }),
    disableTotp: b.mutation<AccessTokenOnly, { code: string }>({
      query: (body) => ({ url: 'api/v1/me/mfa/totp', method: 'DELETE', body }),
      invalidatesTags: ['Mfa'],
      onQueryStarted: (_arg, { dispatch, queryFulfilled }) =>
        renewOnSuccess(queryFulfilled, dispatch),
    }),
    regenerateRecoveryCodes: b.mutation<RecoveryCodes, void>({
      query: () => ({ url: 'api/v1/me/mfa/recovery-codes', method: 'POST', body: {} }),
      invalidatesTags: ['Mfa'],
      onQueryStarted: (_arg, { dispatch, queryFulfilled }) =>
        renewOnSuccess(queryFulfilled, dispatch),
    }),
  }),
});

export const {
  useMfaSignInMutation,
  useStepUpMutation,
  useMfaStatusQuery,
  useBeginTotpMutation,
  useConfirmTotpMutation,
  useDisableTotpMutation,
  useRegenerateRecoveryCodesMutation,
} = accountApi;
