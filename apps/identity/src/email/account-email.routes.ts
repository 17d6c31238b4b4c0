import {
  ChangeEmailRequest,
  MailQueued,
  PasswordResetConfirm,
  PasswordResetRequest,
  VerifyEmailRequest,
  VerifyEmailResponse,
} from '@neon/contracts';
import { requireStepUp, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { AccountEmailService } from './account-email.service.js';

const QUEUED: MailQueued = { status: 'queued' };

/** Password reset and email verification by mailed link. */
export function accountEmailRoutes(service: AccountEmailService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
    });

    // 202 and the same body whatever the address: nothing here tells whether it has an account.
    app.post(
      '/api/v1/auth/password-reset',
      { schema: { body: PasswordResetRequest, response: { 202: MailQueued } } },
      async (request, reply) => {
        await service.requestReset(request.body.email);
        return reply.status(202).send(QUEUED);
      },
    );

    app.post(
      '/api/v1/auth/password-reset/confirm',
      { schema: { body: PasswordResetConfirm } },
      async (request, reply) => {
        await service.confirmReset(request.body.token, request.body.password);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/auth/verify-email',
      { schema: { body: VerifyEmailRequest, response: { 200: VerifyEmailResponse } } },
      async (request) => service.verifyEmail(request.body.token),
    );

    app.post(
      '/api/v1/me/email',
      { schema: { body: ChangeEmailRequest, response: { 202: MailQueued } } },
      async (request, reply) => {
        // A second factor, when the account has one, checked within the last minutes.
        const client = requireStepUp(request);
        await service.requestChange(client.id, request.body.email, request.body.password);
        return reply.status(202).send(QUEUED);
      },
    );

    app.post(
      '/api/v1/me/email-verification',
      { schema: { response: { 202: MailQueued } } },
      async (request, reply) => {
        await service.resendVerification(requireUser(request).id);
        return reply.status(202).send(QUEUED);
      },
    );
  };
}
