import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { OAuthAppWithSecret, TokenResponse } from '@neon/contracts';
import { newAccount, type Harness } from './harness.js';

/** Registration answers with the refresh token in its body (these tests hold no cookie jar). */
const BODY = { 'x-refresh-token-transport': 'body' };
export const CALLBACK = 'https://app.example/callback';

/** The token endpoint's answer (RFC 6749 §5.1). */
export interface TokenBody {
  access_token: string;
  refresh_token: string;
  scope: string;
  token_type: string;
}

/** How the server keeps codes and refresh tokens: their SHA-256, in hex. */
export const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/**
 * What the OAuth tests do as users, developers and client apps, against the
 * harness `h()` returns (it is started in a `before`, after this is called).
 */
export function oauthClient(h: () => Harness) {
  async function user() {
    const res = await h().app.server.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: BODY,
      payload: newAccount('o'),
    });
    assert.equal(res.statusCode, 201, res.body);
    const u = res.json<TokenResponse>().user;
    return h().as({ id: u.id, username: u.username, roles: u.roles });
  }

  async function newApp(
    owner: Record<string, string>,
    type: 'confidential' | 'public' = 'confidential',
    redirectUris = [CALLBACK],
  ) {
    const res = await h().app.server.inject({
      method: 'POST',
      url: '/api/v1/oauth/apps',
      headers: owner,
      payload: { name: 'Stream Tools', redirectUris, type },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<OAuthAppWithSecret>();
  }

  const form = (
    url: string,
    params: Record<string, string>,
    headers: Record<string, string> = {},
  ) =>
    h().app.server.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(params).toString(),
    });

  async function consent(
    asUser: Record<string, string>,
    clientId: string,
    extra: Record<string, unknown> = {},
  ) {
    const { verifier, challenge } = pkce();
    const res = await h().app.server.inject({
      method: 'POST',
      url: '/api/v1/oauth/authorize',
      headers: asUser,
      payload: {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: CALLBACK,
        scope: 'user:read:email channel:read:followers',
        state: 'st-123',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        allowed: true,
        ...extra,
      },
    });
    return {
      res,
      verifier,
      url: res.statusCode === 200 ? new URL(res.json<{ redirectTo: string }>().redirectTo) : null,
    };
  }

  async function codeFor(
    asUser: Record<string, string>,
    clientId: string,
    extra: Record<string, unknown> = {},
  ) {
    const { url, verifier } = await consent(asUser, clientId, extra);
    assert.ok(url);
    const code = url.searchParams.get('code');
    assert.ok(code, url.href);
    return { code, verifier };
  }

  const exchange = (app: OAuthAppWithSecret, code: string, verifier: string, extra = {}) =>
    form('/oauth2/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: CALLBACK,
      client_id: app.clientId,
      ...(app.clientSecret ? { client_secret: app.clientSecret } : {}),
      ...extra,
    });

  const refresh = (app: OAuthAppWithSecret, token: string, extra = {}) =>
    form('/oauth2/token', {
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: app.clientId,
      ...(app.clientSecret ? { client_secret: app.clientSecret } : {}),
      ...extra,
    });

  return { user, newApp, form, consent, codeFor, exchange, refresh };
}
