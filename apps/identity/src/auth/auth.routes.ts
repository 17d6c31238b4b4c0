import {
  ChangePasswordRequest,
  LoginRequest,
  MfaChallenge,
  RefreshRequest,
  RegisterRequest,
  SocketTicket,
  SOCKET_TICKET_TTL_SECONDS,
  TokenResponse,
} from '@neon/contracts';
import { requireStepUp, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import Type from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { storedUserAgent } from '../domain/user-agent.js';
import type { TokenIssuer } from '../keys/token-issuer.js';
import type { AuthService, Session, SignInDevice } from './auth.service.js';
import {
  checkOrigin,
  clearRefreshCookie,
  refreshCookie,
  deviceCookie,
  setDeviceCookie,
  setRefreshCookie,
  wantsBodyTransport,
  type CookiePolicy,
} from './refresh-cookie.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  issuer: TokenIssuer;
  /** The refresh cookie's name and attributes, and the origin allowed to use it. */
  cookies: CookiePolicy;
}

/**
 * A new session's answer: the access token and user, the refresh token in
 * the cookie (or in the body for a client that asked for it).
 */
export function sessionBody(
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  cookies: CookiePolicy,
): TokenResponse {
  void reply.header('cache-control', 'no-store');
  const body: TokenResponse = {
    accessToken: session.accessToken,
    expiresIn: session.expiresIn,
    user: session.user,
  };
  if (wantsBodyTransport(request)) body.refreshToken = session.refreshToken;
  else setRefreshCookie(reply, session.refreshToken, session.refreshExpiresAt, cookies);
  if (session.deviceId) setDeviceCookie(reply, session.deviceId, cookies);
  return body;
}

/** The browser signing in, as AuthService records it. */
export function signInDevice(request: FastifyRequest, cookies: CookiePolicy): SignInDevice {
  return { cookie: deviceCookie(request, cookies) };
}

/** Register, login, refresh, logout, socket tickets and password change. */
export function authRoutes(options: AuthRoutesOptions): FastifyPluginAsyncTypebox {
  const { auth, issuer, cookies } = options;

  const respond = (request: FastifyRequest, reply: FastifyReply, session: Session) =>
    sessionBody(request, reply, session, cookies);

  /**
   * The body wins over the cookie: a client that sends one means it. Checks
   * the caller's origin first, strictly when the cookie is what it presents.
   */
  function presented(request: FastifyRequest, body: RefreshRequest | undefined) {
    const fromCookie =
      body?.refreshToken === undefined ? refreshCookie(request, cookies) : undefined;
    checkOrigin(request, cookies, fromCookie !== undefined);
    return body?.refreshToken ?? fromCookie;
  }

  return async (app) => {
    app.post(
      '/api/v1/auth/register',
      { schema: { body: RegisterRequest, response: { 201: TokenResponse } } },
      async (request, reply) => {
        checkOrigin(request, cookies, false);
        const session = await auth.register(
          request.body,
          storedUserAgent(request.headers['user-agent']),
          signInDevice(request, cookies),
        );
        return reply.status(201).send(respond(request, reply, session));
      },
    );

    app.post(
      '/api/v1/auth/login',
      {
        schema: {
          body: LoginRequest,
          response: { 200: Type.Union([TokenResponse, MfaChallenge]) },
        },
      },
      async (request, reply) => {
        checkOrigin(request, cookies, false);
        const outcome = await auth.login(
          request.body.login,
          request.body.password,
          storedUserAgent(request.headers['user-agent']),
          signInDevice(request, cookies),
        );
        // A second factor is due: the challenge, no session and no cookie yet.
        if ('mfaRequired' in outcome)
          return reply.header('cache-control', 'no-store').send(outcome);
        return respond(request, reply, outcome);
      },
    );

    app.post(
      '/api/v1/auth/refresh',
      { schema: { body: RefreshRequest, response: { 200: TokenResponse } } },
      async (request, reply) => {
        const token = presented(request, request.body);
        try {
          return respond(request, reply, await auth.refresh(token));
        } catch (err) {
          // A dead cookie would be sent again on every refresh: drop it.
          if (!wantsBodyTransport(request)) clearRefreshCookie(reply, cookies);
          throw err;
        }
      },
    );

    app.post(
      '/api/v1/auth/logout',
      { schema: { body: RefreshRequest } },
      async (request, reply) => {
        await auth.logout(presented(request, request.body), request.client);
        clearRefreshCookie(reply, cookies);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/auth/socket-ticket',
      { schema: { response: { 200: SocketTicket } } },
      async (request, reply) => {
        const client = requireUser(request);
        void reply.header('cache-control', 'no-store');
        return {
          token: await issuer.socketTicket(client),
          expiresIn: SOCKET_TICKET_TTL_SECONDS,
        };
      },
    );

    app.post(
      '/api/v1/me/password',
      { schema: { body: ChangePasswordRequest, response: { 200: TokenResponse } } },
      async (request, reply) => {
        const client = requireStepUp(request);
        checkOrigin(request, cookies, false);
        const { currentPassword, newPassword } = request.body;
        const stepUpAt = client.stepUpAt ? new Date(client.stepUpAt * 1000) : null;
        return respond(
          request,
          reply,
          await auth.changePassword(
            client.id,
            currentPassword,
            newPassword,
            stepUpAt,
            storedUserAgent(request.headers['user-agent']),
          ),
        );
      },
    );
  };
}
