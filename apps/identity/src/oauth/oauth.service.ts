import OAuth2Server from '@node-oauth/oauth2-server';
import {
  OAUTH_CODE_TTL_SECONDS,
  OAUTH_SCOPES,
  isOAuthScope,
  type AuthorizePreview,
  type AuthorizeRequest,
  type ConnectedApp,
  type CreateOAuthAppRequest,
  type OAuthApp,
  type OAuthAppWithSecret,
  type UpdateOAuthAppRequest,
} from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { AppError, type Client, type Logger } from '@neon/kit';
import { enqueue } from '../outbox/outbox.js';
import { oauthModel, type ModelUser } from './oauth-model.js';
import {
  newClientId,
  opaqueToken,
  secretMatches,
  sha256,
  type OAuthTokenSigner,
} from './oauth-token.js';
import * as repo from './oauth.repository.js';
import { parseScope, redirectUriProblem } from './redirect-uri.js';

export interface OAuthSettings {
  /** A refresh token not used this long dies (each use issues a new one). */
  refreshTtlSeconds: number;
}

/** What the token endpoint answers: the RFC 6749 §5.1 body or §5.2 error, with its status and headers. */
export interface OAuthAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function appView(row: repo.ClientRow): OAuthApp {
  return {
    clientId: row.id,
    name: row.name,
    redirectUris: row.redirect_uris,
    type: row.confidential ? 'confidential' : 'public',
    createdAt: row.created_at.toISOString(),
    secretRotatedAt: row.secret_rotated_at?.toISOString() ?? null,
  };
}

function checkRedirectUris(uris: string[]): void {
  const errors = uris.flatMap((uri, i) => {
    const problem = redirectUriProblem(uri);
    return problem ? [{ field: `body.redirectUris.${i}`, message: problem }] : [];
  });
  if (errors.length > 0)
    throw new AppError(
      'OAUTH_REDIRECT_URI_INVALID',
      errors.map((e) => `${e.field} ${e.message}`).join('; '),
      { errors },
    );
}

/**
 * The OAuth 2.0 authorization server. The protocol (authorization request,
 * token endpoint, grant types, PKCE check, redirect URI match) is
 * `@node-oauth/oauth2-server`, with its model (storage, tokens, and the rules
 * the library leaves to us: single-use codes whose replay revokes the grant,
 * refresh rotation whose reuse revokes the grant) in `oauth-model.ts`; this
 * class adds the developer console, the consent step, PKCE S256 for every
 * client, client authentication at revocation, and no implicit and no
 * password grant. See
 * docs/adr/0006-oauth-authorization-server.md.
 */
export class OAuthService {
  private readonly server: OAuth2Server;

  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      signer: OAuthTokenSigner;
      settings: OAuthSettings;
      /** Waits for the outbox to reach the bus: a revocation is answered once the gateway can know it. */
      publishNow: () => Promise<void>;
    },
  ) {
    this.server = new OAuth2Server({
      model: oauthModel({
        db: deps.db,
        signer: deps.signer,
        logger: deps.logger,
        revokeGrant: (grantId, reason) => this.revokeGrant(grantId, reason),
      }),
      accessTokenLifetime: deps.signer.ttlSeconds,
      refreshTokenLifetime: deps.settings.refreshTtlSeconds,
      authorizationCodeLifetime: OAUTH_CODE_TTL_SECONDS,
      allowEmptyState: true,
      allowExtendedTokenAttributes: false,
      alwaysIssueNewRefreshToken: true,
      // Public clients have no secret: the model refuses a confidential one without it.
      requireClientAuthentication: { authorization_code: false, refresh_token: false },
      // `enablePlainPKCE` stays unset (false): the library refuses `plain`.
    });
  }

  // ---- developer console ----

  async createApp(owner: Client, input: CreateOAuthAppRequest): Promise<OAuthAppWithSecret> {
    checkRedirectUris(input.redirectUris);
    const confidential = input.type === 'confidential';
    const secret = confidential ? opaqueToken() : null;
    const row = await this.deps.db.tx(async (q) => {
      const made = await repo.insertClient(q, {
        id: newClientId(),
        ownerId: owner.id,
        name: input.name.trim(),
        redirectUris: [...new Set(input.redirectUris)],
        confidential,
        secretHash: secret === null ? null : sha256(secret),
      });
      // Channels learns the owner from it, to show the app's webhooks in the console.
      await enqueue(q, 'identity.oauth_client.created.v1', {
        clientId: made.id,
        ownerId: owner.id,
        createdAt: made.created_at.toISOString(),
      });
      return made;
    });
    await this.publish();
    return { ...appView(row), clientSecret: secret };
  }

  async apps(owner: Client): Promise<OAuthApp[]> {
    return (await repo.clientsOf(this.deps.db, owner.id)).map(appView);
  }

  async app(owner: Client, clientId: string): Promise<OAuthApp> {
    const row = await repo.findClient(this.deps.db, clientId);
    if (!row || row.owner_id !== owner.id) throw notFound();
    return appView(row);
  }

  async updateApp(
    owner: Client,
    clientId: string,
    change: UpdateOAuthAppRequest,
  ): Promise<OAuthApp> {
    if (change.redirectUris) checkRedirectUris(change.redirectUris);
    if (change.name !== undefined && change.name.trim() === '')
      throw new AppError('VALIDATION_FAILED', 'The name cannot be blank.', {
        errors: [{ field: 'body.name', message: 'must not be blank' }],
      });
    const row = await repo.updateClient(this.deps.db, clientId, owner.id, {
      name: change.name?.trim(),
      redirectUris: change.redirectUris ? [...new Set(change.redirectUris)] : undefined,
    });
    if (!row) throw notFound();
    return appView(row);
  }

  /** A new secret, shown once; the old one stops working at once. */
  async rotateSecret(owner: Client, clientId: string): Promise<OAuthAppWithSecret> {
    const secret = opaqueToken();
    const row = await repo.setSecret(this.deps.db, clientId, owner.id, sha256(secret));
    if (!row) {
      const existing = await repo.findClient(this.deps.db, clientId);
      if (existing && existing.owner_id === owner.id)
        throw new AppError('CONFLICT', 'A public client has no secret.');
      throw notFound();
    }
    return { ...appView(row), clientSecret: secret };
  }

  /** Deletes the app: every grant, code and token of it ends, access tokens at the gateway at once. */
  async deleteApp(owner: Client, clientId: string): Promise<void> {
    const done = await this.deps.db.tx(async (q) => {
      const result = await repo.deleteClient(q, clientId, owner.id);
      if (!result.deleted) return false;
      await enqueue(q, 'identity.oauth_client.deleted.v1', {
        clientId,
        ownerId: owner.id,
        deletedAt: new Date().toISOString(),
      });
      await authorizationEnded(q, {
        tokensOf: owner.id,
        sessionIds: [...result.grantIds, clientId],
        clientId,
        userId: null,
      });
      return true;
    });
    if (!done) throw notFound();
    await this.publish();
  }

  // ---- consent and connected apps ----

  /** Checks an authorization request before the consent screen shows it. */
  async preview(user: Client, request: AuthorizeRequest): Promise<AuthorizePreview> {
    const client = await this.trustedClient(request);
    const scopes = this.requestedScopes(request);
    void user;
    return {
      clientId: client.id,
      appName: client.name,
      redirectUri: request.redirect_uri,
      scopes: scopes.map((name) => ({ name, description: OAUTH_SCOPES[name] })),
    };
  }

  /**
   * The user's answer on the consent screen. Errors before the client and its
   * redirect URI are known good are problems shown on our page (never a
   * redirect: no open redirector); after that, the app hears the outcome on
   * its redirect URI (a code, or `error` with `state`).
   */
  async authorize(
    user: Client,
    request: AuthorizeRequest & { allowed: boolean },
  ): Promise<{ redirectTo: string }> {
    await this.trustedClient(request);
    const target = new URL(request.redirect_uri);
    const fail = (error: string, description: string) => {
      target.searchParams.set('error', error);
      target.searchParams.set('error_description', description);
      if (request.state !== undefined) target.searchParams.set('state', request.state);
      return { redirectTo: target.href };
    };
    if (request.response_type !== 'code')
      return fail('unsupported_response_type', 'Only the authorization code flow is supported.');
    if (request.code_challenge === undefined || request.code_challenge === '')
      return fail('invalid_request', 'PKCE is required: send code_challenge (S256).');
    if (request.code_challenge_method !== 'S256')
      return fail('invalid_request', 'code_challenge_method must be S256.');
    if (!/^[A-Za-z0-9_-]{43}$/.test(request.code_challenge))
      return fail('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters).');
    let scopes: string[];
    try {
      scopes = this.requestedScopes(request);
    } catch {
      return fail('invalid_scope', 'The request names a scope that does not exist.');
    }
    if (!request.allowed) return fail('access_denied', 'The user denied the request.');

    const query: Record<string, string> = {
      response_type: 'code',
      client_id: request.client_id,
      redirect_uri: request.redirect_uri,
      code_challenge: request.code_challenge,
      code_challenge_method: 'S256',
    };
    // No scope asks for none (the consent screen says so); the library refuses an empty one.
    if (scopes.length > 0) query.scope = scopes.join(' ');
    if (request.state !== undefined && request.state !== '') query.state = request.state;
    const req = new OAuth2Server.Request({ method: 'GET', headers: {}, query, body: {} });
    const res = new OAuth2Server.Response({ headers: {} });
    const consenting: ModelUser = { kind: 'consenting', userId: user.id };
    try {
      await this.server.authorize(req, res, {
        authenticateHandler: { handle: () => consenting },
      });
    } catch (err) {
      if (!(err instanceof OAuth2Server.OAuthError)) throw err;
      if (err.code >= 500) {
        // The library's redirect would carry the cause (a database error's text) to the app.
        this.deps.logger.error({ err }, 'authorization failed');
        return fail('server_error', 'The server failed.');
      }
      // The library has put the error on the redirect already.
    }
    const location = res.get('location') as string | undefined;
    if (!location) throw new AppError('INTERNAL', 'The authorization produced no redirect.');
    return { redirectTo: location };
  }

  async connectedApps(user: Client): Promise<ConnectedApp[]> {
    return (await repo.grantsOf(this.deps.db, user.id)).map((g) => ({
      grantId: g.id,
      clientId: g.client_id,
      appName: g.name,
      scopes: g.scopes,
      authorizedAt: g.created_at.toISOString(),
    }));
  }

  /** The user revokes an app: its refresh tokens die, its access tokens are refused at once. */
  async disconnect(user: Client, grantId: string): Promise<void> {
    const revoked = await this.revokeGrant(grantId, 'user', user.id);
    if (!revoked) throw new AppError('OAUTH_GRANT_NOT_FOUND', 'No such connected app.');
  }

  // ---- token and revocation endpoints ----

  async token(input: {
    headers: Record<string, string | string[] | undefined>;
    body: Record<string, string>;
  }): Promise<OAuthAnswer> {
    const grantType = input.body.grant_type;
    if (grantType === 'password' || grantType === 'implicit')
      return oauthError(400, 'unsupported_grant_type', 'This grant type is not supported.');
    if (grantType === 'refresh_token') {
      const widened = await this.widensRefresh(input.headers, input.body);
      if (widened) return oauthError(400, 'invalid_scope', widened);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(input.headers)) if (typeof v === 'string') headers[k] = v;
    const req = new OAuth2Server.Request({
      method: 'POST',
      headers,
      query: {},
      body: input.body,
    });
    const res = new OAuth2Server.Response({ headers: {} });
    try {
      await this.server.token(req, res);
    } catch (err) {
      if (!(err instanceof OAuth2Server.OAuthError)) throw err;
      if (err.code >= 500) this.deps.logger.error({ err }, 'token endpoint failed');
      return {
        status: err.code,
        headers: { ...(res.headers as Record<string, string>), 'cache-control': 'no-store' },
        body: {
          error: err.name,
          error_description: err.code >= 500 ? 'The server failed.' : err.message,
        },
      };
    }
    return {
      status: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      body: res.body as Record<string, unknown>,
    };
  }

  /**
   * RFC 7009. The client authenticates as at the token endpoint. A refresh
   * token, or an access token, of this client ends its whole grant (our access
   * tokens are refused by grant). Unknown tokens answer 200 as the RFC says.
   */
  async revoke(input: {
    headers: Record<string, string | string[] | undefined>;
    body: Record<string, string>;
    accessTokenGrant: (token: string) => Promise<{ clientId: string; sid: string } | null>;
  }): Promise<OAuthAnswer> {
    const token = input.body.token;
    if (!token) return oauthError(400, 'invalid_request', 'Missing parameter: token.');
    const client = await this.authenticateClient(input.headers, input.body);
    if (!client) return oauthError(401, 'invalid_client', 'Client authentication failed.');
    const refresh = await repo.findRefresh(this.deps.db, sha256(token));
    if (refresh && refresh.client_id === client.id) {
      await this.revokeGrant(refresh.grant_id, 'client');
      return { status: 200, headers: { 'cache-control': 'no-store' }, body: {} };
    }
    const access = await input.accessTokenGrant(token);
    if (access && access.clientId === client.id) {
      if (access.sid === client.id) await this.endAppTokens(client);
      else await this.revokeGrant(access.sid, 'client');
    }
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: {} };
  }

  // ---- internals ----

  /**
   * A refresh that asks for a scope its token does not hold is refused here, before the
   * library, which spends the token first and checks the scope after: the client would lose
   * a good refresh token to a mistake, and its retry would count as reuse and end the grant.
   * Only the token's own, authenticated client hears why; anything else goes on to the
   * library and its usual answers.
   */
  private async widensRefresh(
    headers: Record<string, string | string[] | undefined>,
    body: Record<string, string>,
  ): Promise<string | null> {
    const { refresh_token: token, scope } = body;
    if (!token || !scope) return null;
    const row = await repo.findRefresh(this.deps.db, sha256(token));
    if (!row || row.rotated_at !== null || row.grant_revoked_at !== null) return null;
    if (row.expires_at.getTime() <= Date.now()) return null;
    const client = await this.authenticateClient(headers, body);
    if (!client || client.id !== row.client_id) return null;
    const held = new Set(row.scopes);
    const beyond = scope.split(' ').filter((s) => s !== '' && !held.has(s));
    return beyond.length > 0
      ? `The refresh token does not hold the scope ${beyond.join(' ')}; the token is still good.`
      : null;
  }

  /** The client and redirect URI of a request, both known good, or a problem for our own page. */
  private async trustedClient(request: AuthorizeRequest): Promise<repo.ClientRow> {
    const client = await repo.findClient(this.deps.db, request.client_id);
    if (!client) throw new AppError('OAUTH_CLIENT_INVALID', 'No application has this client id.');
    if (!client.redirect_uris.includes(request.redirect_uri))
      throw new AppError(
        'OAUTH_REDIRECT_URI_INVALID',
        'The redirect URI is not one the application registered.',
      );
    return client;
  }

  private requestedScopes(request: AuthorizeRequest): (keyof typeof OAUTH_SCOPES)[] {
    const scopes = parseScope(request.scope);
    const known = scopes.filter(isOAuthScope);
    if (known.length !== scopes.length)
      throw new AppError('VALIDATION_FAILED', 'The request names a scope that does not exist.', {
        errors: [{ field: 'scope', message: 'has an unknown scope' }],
      });
    return known;
  }

  private async authenticateClient(
    headers: Record<string, string | string[] | undefined>,
    body: Record<string, string>,
  ): Promise<repo.ClientRow | null> {
    let id = body.client_id;
    let secret = body.client_secret;
    const auth = headers.authorization;
    if (typeof auth === 'string' && /^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return null;
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (!id) return null;
    const client = await repo.findClient(this.deps.db, id);
    if (!client) return null;
    if (!client.confidential) return secret === undefined ? client : null;
    if (secret === undefined || client.secret_hash === null) return null;
    return secretMatches(secret, client.secret_hash) ? client : null;
  }

  private async revokeGrant(grantId: string, reason: string, userId?: string): Promise<boolean> {
    const done = await this.deps.db.tx(async (q) => {
      const revoked = await repo.revokeGrant(q, grantId, reason, userId);
      if (!revoked) return false;
      await authorizationEnded(q, {
        tokensOf: revoked.userId,
        sessionIds: [grantId],
        clientId: revoked.clientId,
        userId: revoked.userId,
      });
      return true;
    });
    if (done) await this.publish();
    return done;
  }

  private async endAppTokens(client: repo.ClientRow): Promise<void> {
    await enqueue(this.deps.db, 'identity.session.revoked.v1', {
      userId: client.owner_id,
      sessionIds: [client.id],
      reason: 'oauth-revoked',
      revokedAt: new Date().toISOString(),
    });
    await this.publish();
  }

  private async publish(): Promise<void> {
    try {
      await this.deps.publishNow();
    } catch (err) {
      this.deps.logger.error({ err }, 'revocation not yet published; the relay retries');
    }
  }
}

function notFound(): AppError {
  return new AppError('OAUTH_APP_NOT_FOUND', 'No such application.');
}

function oauthError(status: number, error: string, description: string): OAuthAnswer {
  return {
    status,
    headers: { 'cache-control': 'no-store' },
    body: { error, error_description: description },
  };
}

/**
 * In the transaction that ends an authorization: the gateway refuses its
 * tokens (`sessionIds`, of user `tokensOf`), and channels ends the webhooks
 * made with it (`userId` null: the whole app's).
 */
async function authorizationEnded(
  q: Queryable,
  e: { tokensOf: string; sessionIds: string[]; clientId: string; userId: string | null },
): Promise<void> {
  const revokedAt = new Date().toISOString();
  await enqueue(q, 'identity.session.revoked.v1', {
    userId: e.tokensOf,
    sessionIds: e.sessionIds,
    reason: 'oauth-revoked',
    revokedAt,
  });
  await enqueue(q, 'identity.app_authorization.revoked.v1', {
    clientId: e.clientId,
    userId: e.userId,
    revokedAt,
  });
}
