import {
  AccessTokenOnly,
  MfaStatus,
  MfaVerifyRequest,
  RecoveryCodes,
  SecondFactorRequest,
  StepUpResponse,
  STEP_UP_SECONDS,
  TokenResponse,
  TotpEnrolment,
} from '@neon/contracts';
import { requireStepUp, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { FastifyReply } from 'fastify';
import type { AuthService } from '../auth/auth.service.js';
import { sessionBody, signInDevice } from '../auth/auth.routes.js';
import { checkOrigin, type CookiePolicy } from '../auth/refresh-cookie.js';
import { storedUserAgent } from '../domain/user-agent.js';
import type { MfaService } from './mfa.service.js';

export interface MfaRoutesOptions {
  mfa: MfaService;
  auth: AuthService;
  cookies: CookiePolicy;
}

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

/**
 * The second step of a sign-in, step-up, and the account's factors
 * (Settings → Security). Managing factors needs a recent check when the
 * account has one.
 */
export function mfaRoutes(o: MfaRoutesOptions): FastifyPluginAsyncTypebox {
  const { mfa, auth, cookies } = o;
  return async (app) => {
    app.post(
      '/api/v1/auth/mfa',
      { schema: { body: MfaVerifyRequest, response: { 200: TokenResponse } } },
      async (request, reply) => {
        checkOrigin(request, cookies, false);
        const userId = await mfa.completeChallenge(request.body.challenge, request.body.code);
        const session = await auth.signInChecked(
          userId,
          storedUserAgent(request.headers['user-agent']),
          signInDevice(request, cookies),
        );
        return sessionBody(request, reply, session, cookies);
      },
    );

    app.post(
      '/api/v1/auth/step-up',
      { schema: { body: SecondFactorRequest, response: { 200: StepUpResponse } } },
      async (request, reply) => {
        const client = requireUser(request);
        checkOrigin(request, cookies, false);
        const at = await mfa.stepUp(client.id, client.sessionId, request.body.code);
        noStore(reply);
        return {
          accessToken: await auth.accessTokenFor(client.id, client.sessionId),
          expiresIn: auth.accessTtlSeconds,
          stepUpUntil: new Date(at.getTime() + STEP_UP_SECONDS * 1000).toISOString(),
        };
      },
    );

    app.get(
      '/api/v1/me/mfa',
      { schema: { response: { 200: MfaStatus } } },
      async (request, reply) => {
        const client = requireUser(request);
        noStore(reply);
        return mfa.status(client.id, client.sessionId);
      },
    );

    app.post(
      '/api/v1/me/mfa/totp',
      { schema: { response: { 200: TotpEnrolment } } },
      async (request, reply) => {
        const client = requireStepUp(request);
        checkOrigin(request, cookies, false);
        noStore(reply);
        return mfa.beginTotp({ id: client.id, username: client.username });
      },
    );

    app.post(
      '/api/v1/me/mfa/totp/confirm',
      { schema: { body: SecondFactorRequest, response: { 200: RecoveryCodes } } },
      async (request, reply) => {
        const client = requireStepUp(request);
        checkOrigin(request, cookies, false);
        const codes = await mfa.confirmTotp(client.id, client.sessionId, request.body.code);
        noStore(reply);
        return {
          recoveryCodes: codes,
          accessToken: await auth.accessTokenFor(client.id, client.sessionId),
          expiresIn: auth.accessTtlSeconds,
        };
      },
    );

    // Disabling takes a code checked now, whatever the session's last step-up.
    app.delete(
      '/api/v1/me/mfa/totp',
      { schema: { body: SecondFactorRequest, response: { 200: AccessTokenOnly } } },
      async (request, reply) => {
        const client = requireUser(request);
        checkOrigin(request, cookies, false);
        await mfa.disableTotp(client.id, request.body.code);
        noStore(reply);
        return {
          accessToken: await auth.accessTokenFor(client.id, client.sessionId),
          expiresIn: auth.accessTtlSeconds,
        };
      },
    );

    app.post(
      '/api/v1/me/mfa/recovery-codes',
      { schema: { response: { 200: RecoveryCodes } } },
      async (request, reply) => {
        const client = requireStepUp(request);
        checkOrigin(request, cookies, false);
        const codes = await mfa.regenerateRecoveryCodes(client.id);
        noStore(reply);
        return {
          recoveryCodes: codes,
          accessToken: await auth.accessTokenFor(client.id, client.sessionId),
          expiresIn: auth.accessTtlSeconds,
        };
      },
    );
  };
}
