import type {
  AdminMailList,
  ChangeEmailRequest,
  AdminMailQuery,
  MailQueued,
  Me,
  PasswordResetConfirm,
  PasswordResetRequest,
  VerifyEmailRequest,
  VerifyEmailResponse,
} from '@neon/contracts';
import { api } from './api';
import { signedOut, userUpdated } from './session';

/** Password reset and email verification by mailed link; the address's state in settings. */
export const emailApi = api.enhanceEndpoints({ addTagTypes: ['Me'] }).injectEndpoints({
  endpoints: (b) => ({
    requestPasswordReset: b.mutation<MailQueued, PasswordResetRequest>({
      query: (body) => ({ url: 'api/v1/auth/password-reset', method: 'POST', body }),
    }),
    confirmPasswordReset: b.mutation<void, PasswordResetConfirm>({
      query: (body) => ({ url: 'api/v1/auth/password-reset/confirm', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          await queryFulfilled;
          // Every session of the account ended, this browser's too: forget it here.
          dispatch(signedOut());
          dispatch(api.util.resetApiState());
        } catch {
          // The reset page shows the error.
        }
      },
    }),
    verifyEmail: b.mutation<VerifyEmailResponse, VerifyEmailRequest>({
      query: (body) => ({ url: 'api/v1/auth/verify-email', method: 'POST', body }),
      invalidatesTags: ['Me'],
    }),
    /** A link to the new address makes the change (the verify-email page); the old one is told. */
    changeEmail: b.mutation<MailQueued, ChangeEmailRequest>({
      query: (body) => ({ url: 'api/v1/me/email', method: 'POST', body }),
    }),
    resendVerification: b.mutation<MailQueued, void>({
      query: () => ({ url: 'api/v1/me/email-verification', method: 'POST', body: {} }),
    }),
    /** Admin → Mail: the queue, newest first (bodies only of mails written to the log). */
    adminMail: b.query<AdminMailList, AdminMailQuery>({
      query: (params) => ({ url: 'admin/v1/mail', params }),
    }),
    /** The caller's account as it is now (verified in another tab since signing in?). */
    me: b.query<Me, void>({
      query: () => 'api/v1/me',
      providesTags: ['Me'],
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          dispatch(userUpdated((await queryFulfilled).data));
        } catch {
          // Settings shows what the session holds.
        }
      },
    }),
  }),
});

export const {
  useRequestPasswordResetMutation,
  useConfirmPasswordResetMutation,
  useVerifyEmailMutation,
  useResendVerificationMutation,
  useChangeEmailMutation,
  useMeQuery,
  useAdminMailQuery,
} = emailApi;
