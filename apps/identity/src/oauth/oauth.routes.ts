import {
  AuthorizePreview,
  AuthorizeRedirect,
  AuthorizeRequest,
  ClientIdParams,
  ConnectedAppList,
  ConsentRequest,
  CreateOAuthAppRequest,
  GrantIdParams,
  OAUTH_SCOPE_NAMES,
  OAuthApp,
  OAuthAppList,
  OAuthAppWithSecret,
  PUBLIC_API_AUDIENCE,
  UpdateOAuthAppRequest,
} from '@neon/contracts';
import { requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { FastifyReply } from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import type { OAuthAnswer, OAuthService } from './oauth.service.js';

/** A form body (RFC 6749 §3.2: `application/x-www-form-urlencoded`), each parameter at most once. */
interface FormBody {
  params: Record<string, string>;
  duplicate: string | null;
}

function parseForm(text: string): FormBody {
  const params: Record<string, string> = {};
  let duplicate: string | null = null;
  for (const [key, value] of new URLSearchParams(text)) {
    if (Object.prototype.hasOwnProperty.call(params, key)) duplicate ??= key;
    params[key] = value;
  }
  return { params, duplicate };
}

function isForm(body: unknown): body is FormBody {
  return typeof body === 'object' && body !== null && 'params' in body && 'duplicate' in body;
}

function send(reply: FastifyReply, answer: OAuthAnswer) {
  return reply.status(answer.status).headers(answer.headers).send(answer.body);
}

/**
 * The authorization server's HTTP face: RFC 8414 metadata, the token and
 * revocation endpoints (RFC 6749 / 7009 bodies, not problem+json, as clients
 * expect), the developer console, the consent step and connected apps.
 * The authorization endpoint itself is the web app's page `/oauth/authorize`,
 * which shows the consent screen and posts the answer here.
 */
export function oauthRoutes(options: {
  oauth: OAuthService;
  ring: KeyRing;
  publicUrl: string;
}): FastifyPluginAsyncTypebox {
  const { oauth, ring } = options;
  const issuer = options.publicUrl.replace(/\/+$/, '');

  /** The grant (`sid`) and client of one of our OAuth access tokens, or null. */
  async function accessTokenGrant(token: string) {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(await ring.jwks()), {
        issuer,
        audience: PUBLIC_API_AUDIENCE,
        algorithms: ['RS256'],
      });
      const { client_id: clientId, sid } = payload;
      return typeof clientId === 'string' && typeof sid === 'string' ? { clientId, sid } : null;
    } catch {
      return null;
    }
  }

  return async (app) => {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_request, body, done) => done(null, parseForm(body as string)),
    );

    app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
      void reply.header('cache-control', 'public, max-age=300');
      return {
        issuer,
        authorization_endpoint: `${issuer}/oauth/authorize`,
        token_endpoint: `${issuer}/oauth2/token`,
        revocation_endpoint: `${issuer}/oauth2/revoke`,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        scopes_supported: OAUTH_SCOPE_NAMES,
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
        token_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'none',
        ],
        revocation_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'none',
        ],
        code_challenge_methods_supported: ['S256'],
        service_documentation: `${issuer}/developers/docs`,
      };
    });

    for (const path of ['/oauth2/token', '/oauth2/revoke'] as const) {
      app.post(path, async (request, reply) => {
        const body = request.body;
        if (!isForm(body))
          return send(reply, {
            status: 400,
            headers: { 'cache-control': 'no-store' },
            body: {
              error: 'invalid_request',
              error_description: 'The body must be application/x-www-form-urlencoded.',
            },
          });
        if (body.duplicate !== null)
          return send(reply, {
            status: 400,
            headers: { 'cache-control': 'no-store' },
            body: {
              error: 'invalid_request',
              error_description: `Parameter ${body.duplicate} appears more than once.`,
            },
          });
        const input = { headers: request.headers, body: body.params };
        return send(
          reply,
          path === '/oauth2/token'
            ? await oauth.token(input)
            : await oauth.revoke({ ...input, accessTokenGrant }),
        );
      });
    }

    // ---- developer console ----
    app.get(
      '/api/v1/oauth/apps',
      { schema: { response: { 200: OAuthAppList } } },
      async (request) => ({
        items: await oauth.apps(requireUser(request)),
      }),
    );
    app.post(
      '/api/v1/oauth/apps',
      { schema: { body: CreateOAuthAppRequest, response: { 201: OAuthAppWithSecret } } },
      async (request, reply) => {
        const created = await oauth.createApp(requireUser(request), request.body);
        return reply.status(201).header('cache-control', 'no-store').send(created);
      },
    );
    app.get(
      '/api/v1/oauth/apps/:clientId',
      { schema: { params: ClientIdParams, response: { 200: OAuthApp } } },
      async (request) => oauth.app(requireUser(request), request.params.clientId),
    );
    app.patch(
      '/api/v1/oauth/apps/:clientId',
      {
        schema: {
          params: ClientIdParams,
          body: UpdateOAuthAppRequest,
          response: { 200: OAuthApp },
        },
      },
      async (request) =>
        oauth.updateApp(requireUser(request), request.params.clientId, request.body),
    );
    app.post(
      '/api/v1/oauth/apps/:clientId/secret',
      { schema: { params: ClientIdParams, response: { 200: OAuthAppWithSecret } } },
      async (request, reply) => {
        const rotated = await oauth.rotateSecret(requireUser(request), request.params.clientId);
        return reply.header('cache-control', 'no-store').send(rotated);
      },
    );
    app.delete(
      '/api/v1/oauth/apps/:clientId',
      { schema: { params: ClientIdParams } },
      async (request, reply) => {
        await oauth.deleteApp(requireUser(request), request.params.clientId);
        return reply.status(204).send();
      },
    );

    // ---- consent ----
    app.get(
      '/api/v1/oauth/authorize',
      { schema: { querystring: AuthorizeRequest, response: { 200: AuthorizePreview } } },
      async (request) => oauth.preview(requireUser(request), request.query),
    );
    app.post(
      '/api/v1/oauth/authorize',
      { schema: { body: ConsentRequest, response: { 200: AuthorizeRedirect } } },
      async (request, reply) => {
        const answer = await oauth.authorize(requireUser(request), request.body);
        return reply.header('cache-control', 'no-store').send(answer);
      },
    );

    // ---- connected apps ----
    app.get(
      '/api/v1/oauth/connections',
      { schema: { response: { 200: ConnectedAppList } } },
      async (request) => ({ items: await oauth.connectedApps(requireUser(request)) }),
    );
    app.delete(
      '/api/v1/oauth/connections/:grantId',
      { schema: { params: GrantIdParams } },
      async (request, reply) => {
        await oauth.disconnect(requireUser(request), request.params.grantId);
        return reply.status(204).send();
      },
    );
  };
}
