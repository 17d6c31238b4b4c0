import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  ClientHeaders,
  PUBLIC_API_AUDIENCE,
  type AuthorizePreview,
  type ConnectedAppList,
  type OAuthAppList,
  type OAuthAppWithSecret,
  type TokenResponse,
} from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { collect, newAccount, PUBLIC_URL, start, variants, type Harness } from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };
const CALLBACK = 'https://app.example/callback';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

for (const variant of variants()) {
  describe(`OAuth authorization server (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines);
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    async function user() {
      const res = await h.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: BODY,
        payload: newAccount('o'),
      });
      assert.equal(res.statusCode, 201, res.body);
      const u = res.json<TokenResponse>().user;
      return h.as({ id: u.id, username: u.username, roles: u.roles });
    }

    async function newApp(
      owner: Record<string, string>,
      type: 'confidential' | 'public' = 'confidential',
      redirectUris = [CALLBACK],
    ) {
      const res = await h.app.server.inject({
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
      h.app.server.inject({
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
      const res = await h.app.server.inject({
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

    async function codeFor(asUser: Record<string, string>, clientId: string) {
      const { url, verifier } = await consent(asUser, clientId);
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

    test('metadata (RFC 8414) names S256 only and no implicit or password grant', async () => {
      const res = await h.app.server.inject({ url: '/.well-known/oauth-authorization-server' });
      assert.equal(res.statusCode, 200);
      const meta = res.json<Record<string, unknown>>();
      assert.equal(meta.issuer, PUBLIC_URL);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(meta.response_types_supported, ['code']);
      assert.ok(!(meta.grant_types_supported as string[]).includes('password'));
    });

    test('console: the secret is shown once, rotates, and apps are their owner’s only', async () => {
      const owner = await user();
      const other = await user();
      const created = await newApp(owner);
      assert.match(created.clientSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
      const list = await h.app.server.inject({ url: '/api/v1/oauth/apps', headers: owner });
      assert.equal(list.json<OAuthAppList>().items.length, 1);
      assert.ok(!list.body.includes(created.clientSecret!));
      for (const [method, url] of [
        ['GET', `/api/v1/oauth/apps/${created.clientId}`],
        ['DELETE', `/api/v1/oauth/apps/${created.clientId}`],
        ['POST', `/api/v1/oauth/apps/${created.clientId}/secret`],
      ] as const) {
        const res = await h.app.server.inject({ method, url, headers: other });
        assert.equal(res.json<{ code: string }>().code, 'OAUTH_APP_NOT_FOUND', `${method} ${url}`);
      }
      const anon = await h.app.server.inject({ url: '/api/v1/oauth/apps' });
      assert.equal(anon.json<{ code: string }>().code, 'AUTH_REQUIRED');

      const rotated = await h.app.server.inject({
        method: 'POST',
        url: `/api/v1/oauth/apps/${created.clientId}/secret`,
        headers: owner,
      });
      const fresh = rotated.json<OAuthAppWithSecret>();
      assert.notEqual(fresh.clientSecret, created.clientSecret);
      const old = await form('/oauth2/token', {
        grant_type: 'client_credentials',
        client_id: created.clientId,
        client_secret: created.clientSecret!,
      });
      assert.equal(old.json<{ error: string }>().error, 'invalid_client');
      const ok = await form(
        '/oauth2/token',
        { grant_type: 'client_credentials' },
        {
          authorization: `Basic ${Buffer.from(`${created.clientId}:${fresh.clientSecret}`).toString('base64')}`,
        },
      );
      assert.equal(ok.statusCode, 200, ok.body);
      const claims = decodeJwt(ok.json<{ access_token: string }>().access_token);
      assert.equal(claims.sub, created.clientId);
      assert.equal(claims.aud, PUBLIC_API_AUDIENCE);
      assert.equal(claims.scope, '');
      assert.equal(ok.json<{ refresh_token?: string }>().refresh_token, undefined);
    });

    test('redirect URIs must be https or loopback http, without fragments', async () => {
      const owner = await user();
      for (const uri of [
        'http://app.example/cb',
        'https://app.example/cb#x',
        'javascript:alert(1)',
      ]) {
        const res = await h.app.server.inject({
          method: 'POST',
          url: '/api/v1/oauth/apps',
          headers: owner,
          payload: { name: 'x', redirectUris: [uri], type: 'public' },
        });
        assert.equal(res.statusCode, 400, uri);
        assert.equal(res.json<{ code: string }>().code, 'OAUTH_REDIRECT_URI_INVALID', uri);
      }
    });

    test('code + PKCE: token is an RS256 JWT for the public API; state comes back; refresh rotates', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const preview = await h.app.server.inject({
        url: `/api/v1/oauth/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: app.clientId,
          redirect_uri: CALLBACK,
          scope: 'user:read:email',
        }).toString()}`,
        headers: viewer,
      });
      assert.equal(preview.statusCode, 200, preview.body);
      assert.equal(preview.json<AuthorizePreview>().scopes[0]?.name, 'user:read:email');

      const { url, verifier } = await consent(viewer, app.clientId);
      assert.ok(url);
      assert.equal(url.origin + url.pathname, CALLBACK);
      assert.equal(url.searchParams.get('state'), 'st-123');
      const res = await exchange(app, url.searchParams.get('code')!, verifier);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json<{
        access_token: string;
        refresh_token: string;
        scope: string;
        token_type: string;
      }>();
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.scope, 'user:read:email channel:read:followers');
      assert.equal(decodeProtectedHeader(body.access_token).typ, 'at+jwt');
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.aud, PUBLIC_API_AUDIENCE);
      assert.equal(claims.client_id, app.clientId);
      assert.equal(typeof claims.sid, 'string');

      const next = await refresh(app, body.refresh_token);
      assert.equal(next.statusCode, 200, next.body);
      const rotated = next.json<{ refresh_token: string; access_token: string }>();
      assert.notEqual(rotated.refresh_token, body.refresh_token);
      assert.equal(decodeJwt(rotated.access_token).sid, claims.sid);

      // Narrowing on refresh is allowed; widening is not.
      const wider = await refresh(app, rotated.refresh_token, { scope: 'user:write:chat' });
      assert.equal(wider.json<{ error: string }>().error, 'invalid_scope');
    });

    test('refresh-token reuse revokes the grant and tells the gateway', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, app.clientId);
      const first = (await exchange(app, code, verifier)).json<{
        refresh_token: string;
        access_token: string;
      }>();
      const second = (await refresh(app, first.refresh_token)).json<{ refresh_token: string }>();
      const events = await collect(h.bus, ['identity.session.revoked.v1']);
      const reused = await refresh(app, first.refresh_token);
      assert.equal(reused.statusCode, 400);
      assert.equal(reused.json<{ error: string }>().error, 'invalid_grant');
      // The thief's successor dies with the grant.
      const after = await refresh(app, second.refresh_token);
      assert.equal(after.json<{ error: string }>().error, 'invalid_grant');
      const sid = decodeJwt(first.access_token).sid as string;
      try {
        await waitFor(() => events.events.some((e) => e.data.sessionIds.includes(sid)), {
          what: 'the revocation event',
        });
      } finally {
        await events.close();
      }
    });

    test('a replayed code is refused and revokes the tokens it issued', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, app.clientId);
      const first = await exchange(app, code, verifier);
      assert.equal(first.statusCode, 200);
      const replay = await exchange(app, code, verifier);
      assert.equal(replay.json<{ error: string }>().error, 'invalid_grant');
      const dead = await refresh(app, first.json<{ refresh_token: string }>().refresh_token);
      assert.equal(dead.json<{ error: string }>().error, 'invalid_grant');
    });

    test('PKCE: missing, plain or wrong verifier never yields a token', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const missing = await consent(viewer, app.clientId, { code_challenge: undefined });
      assert.equal(missing.url?.searchParams.get('error'), 'invalid_request');
      assert.equal(missing.url?.searchParams.get('code'), null);
      assert.equal(missing.url?.searchParams.get('state'), 'st-123');
      const plain = await consent(viewer, app.clientId, { code_challenge_method: 'plain' });
      assert.equal(plain.url?.searchParams.get('error'), 'invalid_request');

      const { code, verifier } = await codeFor(viewer, app.clientId);
      const noVerifier = await form('/oauth2/token', {
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(noVerifier.statusCode, 400);
      // A failed attempt burns the code: the right verifier afterwards gets nothing.
      const late = await exchange(app, code, verifier);
      assert.equal(late.json<{ error: string }>().error, 'invalid_grant');

      const again = await codeFor(viewer, app.clientId);
      const wrong = await exchange(app, again.code, pkce().verifier);
      assert.equal(wrong.json<{ error: string }>().error, 'invalid_grant');
    });

    test('redirect URI: a mismatch is shown on our page, never redirected to', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      for (const uri of [
        'https://evil.example/callback',
        `${CALLBACK}/`,
        `${CALLBACK}?next=https://evil.example`,
        'https://app.example/callback.evil.example',
        'https://APP.example/callback',
      ]) {
        const { res } = await consent(viewer, app.clientId, { redirect_uri: uri });
        assert.equal(res.statusCode, 400, uri);
        assert.equal(res.json<{ code: string }>().code, 'OAUTH_REDIRECT_URI_INVALID', uri);
        assert.ok(!('redirectTo' in res.json<object>()));
      }
      const unknown = await consent(viewer, 'no-such-client');
      assert.equal(unknown.res.json<{ code: string }>().code, 'OAUTH_CLIENT_INVALID');
      // At the token endpoint, the redirect URI must be the one the code was issued for.
      const other = await newApp(owner, 'confidential', [CALLBACK, 'https://app.example/other']);
      const { code, verifier } = await codeFor(viewer, other.clientId);
      const res = await exchange(other, code, verifier, {
        redirect_uri: 'https://app.example/other',
      });
      assert.equal(res.statusCode, 400);
    });

    test("a client cannot redeem another client's code, nor use a wrong secret", async () => {
      const owner = await user();
      const viewer = await user();
      const a = await newApp(owner);
      const b = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, a.clientId);
      const stolen = await exchange(b, code, verifier);
      assert.equal(stolen.json<{ error: string }>().error, 'invalid_grant');
      const wrongSecret = await exchange({ ...a, clientSecret: 'x'.repeat(43) }, code, verifier);
      assert.equal(wrongSecret.json<{ error: string }>().error, 'invalid_client');
      // A confidential client cannot pass as public by leaving out its secret.
      const noSecret = await exchange({ ...a, clientSecret: null }, code, verifier);
      assert.equal(noSecret.json<{ error: string }>().error, 'invalid_client');
    });

    test('scopes: unknown ones are refused; app tokens get no user scope; no password grant', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const bad = await consent(viewer, app.clientId, {
        scope: 'user:read:email admin:everything',
      });
      assert.equal(bad.url?.searchParams.get('error'), 'invalid_scope');
      const appScoped = await form('/oauth2/token', {
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.clientSecret!,
        scope: 'user:read:email',
      });
      assert.equal(appScoped.json<{ error: string }>().error, 'invalid_scope');
      const password = await form('/oauth2/token', {
        grant_type: 'password',
        username: 'x',
        password: 'y',
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(password.json<{ error: string }>().error, 'unsupported_grant_type');
      const implicit = await consent(viewer, app.clientId, { response_type: 'token' });
      assert.equal(implicit.url?.searchParams.get('error'), 'unsupported_response_type');
      assert.equal(implicit.url?.searchParams.get('access_token'), null);
      const denied = await consent(viewer, app.clientId, { allowed: false });
      assert.equal(denied.url?.searchParams.get('error'), 'access_denied');
      assert.equal(denied.url?.searchParams.get('state'), 'st-123');
      const dup = await h.app.server.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=client_credentials&client_id=${app.clientId}&client_id=other`,
      });
      assert.equal(dup.json<{ error: string }>().error, 'invalid_request');
    });

    test('public clients: code + PKCE without a secret; no client credentials', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner, 'public');
      assert.equal(app.clientSecret, null);
      const { code, verifier } = await codeFor(viewer, app.clientId);
      const res = await exchange(app, code, verifier);
      assert.equal(res.statusCode, 200, res.body);
      const cc = await form('/oauth2/token', {
        grant_type: 'client_credentials',
        client_id: app.clientId,
      });
      assert.notEqual(cc.statusCode, 200);
    });

    test('connected apps: the user sees and revokes them; revocation (RFC 7009) and deletion end the grant', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, app.clientId);
      const tokens = (await exchange(app, code, verifier)).json<{
        refresh_token: string;
        access_token: string;
      }>();
      const list = await h.app.server.inject({ url: '/api/v1/oauth/connections', headers: viewer });
      const items = list.json<ConnectedAppList>().items;
      assert.equal(items.length, 1);
      assert.deepEqual(items[0]?.scopes, ['user:read:email', 'channel:read:followers']);
      assert.equal(items[0]?.grantId, decodeJwt(tokens.access_token).sid);
      // Someone else cannot revoke it.
      const foreign = await h.app.server.inject({
        method: 'DELETE',
        url: `/api/v1/oauth/connections/${items[0].grantId}`,
        headers: owner,
      });
      assert.equal(foreign.json<{ code: string }>().code, 'OAUTH_GRANT_NOT_FOUND');
      const viewerId = viewer[ClientHeaders.id]!;
      const events = await collect(h.bus, ['identity.session.revoked.v1']);
      // What channels ends the app's webhooks on: the user's authorization, then the whole app.
      const ended = await collect(h.bus, ['identity.app_authorization.revoked.v1']);
      const endedFor = (userId: string | null) =>
        waitFor(
          () =>
            ended.events.some((e) => e.data.clientId === app.clientId && e.data.userId === userId),
          { what: `the end of ${app.clientId}'s authorization by ${userId ?? 'its deletion'}` },
        );
      const gone = await h.app.server.inject({
        method: 'DELETE',
        url: `/api/v1/oauth/connections/${items[0].grantId}`,
        headers: viewer,
      });
      assert.equal(gone.statusCode, 204);
      // The gateway refuses the grant's access tokens on this event.
      try {
        await waitFor(
          () => events.events.some((e) => e.data.sessionIds.includes(items[0]!.grantId)),
          {
            what: 'the revocation event',
          },
        );
      } finally {
        await events.close();
      }
      const dead = await refresh(app, tokens.refresh_token);
      assert.equal(dead.json<{ error: string }>().error, 'invalid_grant');
      await endedFor(viewerId);

      // RFC 7009 on a fresh grant.
      const again = await codeFor(viewer, app.clientId);
      const t2 = (await exchange(app, again.code, again.verifier)).json<{
        refresh_token: string;
      }>();
      const revoked = await form('/oauth2/revoke', {
        token: t2.refresh_token,
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(revoked.statusCode, 200);
      assert.equal(
        (await refresh(app, t2.refresh_token)).json<{ error: string }>().error,
        'invalid_grant',
      );

      const third = await codeFor(viewer, app.clientId);
      const t3 = (await exchange(app, third.code, third.verifier)).json<{
        refresh_token: string;
      }>();
      const del = await h.app.server.inject({
        method: 'DELETE',
        url: `/api/v1/oauth/apps/${app.clientId}`,
        headers: owner,
      });
      assert.equal(del.statusCode, 204);
      assert.equal(
        (await refresh(app, t3.refresh_token)).json<{ error: string }>().error,
        'invalid_client',
      );
      try {
        await endedFor(null);
        assert.ok(ended.events.every((e) => !Number.isNaN(Date.parse(e.data.revokedAt))));
      } finally {
        await ended.close();
      }
    });

    test('revocation (RFC 7009): only the authenticated client that holds a token ends its grant', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const other = await newApp(owner);
      const publicApp = await newApp(owner, 'public');
      const grant = async (a: OAuthAppWithSecret) => {
        const { code, verifier } = await codeFor(viewer, a.clientId);
        const res = await exchange(a, code, verifier);
        assert.equal(res.statusCode, 200, res.body);
        // A token answer is never cached.
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers.pragma, 'no-cache');
        return res.json<{ refresh_token: string; access_token: string }>();
      };
      const alive = async (a: OAuthAppWithSecret, token: string) => {
        const res = await refresh(a, token);
        if (res.statusCode !== 200) return null;
        return res.json<{ refresh_token: string; access_token: string }>().refresh_token;
      };
      const basic = (id: string, secret: string) => ({
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      });
      const problem = async (
        res: Awaited<ReturnType<typeof form>>,
        status: number,
        error: string,
      ) => {
        assert.equal(res.statusCode, status, res.body);
        assert.equal(res.json<{ error: string }>().error, error);
        assert.equal(res.headers['cache-control'], 'no-store');
      };

      let t = await grant(app);
      // No token, no client, a wrong secret, a public client's secret, a Basic header without a colon.
      await problem(
        await form('/oauth2/revoke', { client_id: app.clientId, client_secret: app.clientSecret! }),
        400,
        'invalid_request',
      );
      await problem(
        await form('/oauth2/revoke', { token: t.refresh_token }),
        401,
        'invalid_client',
      );
      await problem(
        await form('/oauth2/revoke', {
          token: t.refresh_token,
          client_id: app.clientId,
          client_secret: 'wrong',
        }),
        401,
        'invalid_client',
      );
      await problem(
        await form('/oauth2/revoke', { token: t.refresh_token, client_id: app.clientId }),
        401,
        'invalid_client',
      );
      await problem(
        await form('/oauth2/revoke', {
          token: t.refresh_token,
          client_id: 'nobody',
          client_secret: 'x',
        }),
        401,
        'invalid_client',
      );
      await problem(
        await form('/oauth2/revoke', {
          token: t.refresh_token,
          client_id: publicApp.clientId,
          client_secret: 'x',
        }),
        401,
        'invalid_client',
      );
      await problem(
        await form(
          '/oauth2/revoke',
          { token: t.refresh_token },
          { authorization: `Basic ${Buffer.from(app.clientId).toString('base64')}` },
        ),
        401,
        'invalid_client',
      );
      await problem(
        await form('/oauth2/revoke', { token: t.refresh_token }, basic(app.clientId, 'wrong')),
        401,
        'invalid_client',
      );
      // Another client's tokens are not its to end: 200 (RFC 7009 §2.2), and they still work.
      for (const token of [t.refresh_token, t.access_token]) {
        const res = await form('/oauth2/revoke', {
          token,
          client_id: other.clientId,
          client_secret: other.clientSecret!,
        });
        assert.equal(res.statusCode, 200);
      }
      const rotated = await alive(app, t.refresh_token);
      assert.ok(rotated, "another client's revocation ended the grant");
      // The holder, authenticated by HTTP Basic (any case): the grant ends.
      const byBasic = await form(
        '/oauth2/revoke',
        { token: rotated },
        {
          authorization: basic(app.clientId, app.clientSecret!).authorization.replace(
            'Basic',
            'bAsIc',
          ),
        },
      );
      assert.equal(byBasic.statusCode, 200);
      assert.equal(byBasic.headers['cache-control'], 'no-store');
      assert.equal(await alive(app, rotated), null);

      // An access token ends its grant too; an unknown token is a 200 that ends nothing.
      t = await grant(app);
      const unknown = await form('/oauth2/revoke', {
        token: 'not-a-token',
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(unknown.statusCode, 200);
      const next = await alive(app, t.refresh_token);
      assert.ok(next);
      const byAccess = await form('/oauth2/revoke', {
        token: t.access_token,
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(byAccess.statusCode, 200);
      assert.equal(await alive(app, next), null);

      // A public client revokes its own token with its id alone.
      const p = await grant(publicApp);
      const byPublic = await form('/oauth2/revoke', {
        token: p.refresh_token,
        client_id: publicApp.clientId,
      });
      assert.equal(byPublic.statusCode, 200);
      assert.equal(await alive(publicApp, p.refresh_token), null);

      // An app token: the gateway is told to refuse every token of the app, and only that.
      const events = await collect(h.bus, ['identity.session.revoked.v1']);
      try {
        const appToken = (
          await form('/oauth2/token', {
            grant_type: 'client_credentials',
            client_id: app.clientId,
            client_secret: app.clientSecret!,
          })
        ).json<{ access_token: string }>().access_token;
        const res = await form(
          '/oauth2/revoke',
          { token: appToken },
          basic(app.clientId, app.clientSecret!),
        );
        assert.equal(res.statusCode, 200);
        await waitFor(
          () =>
            events.events.some(
              (e) => e.data.sessionIds.length === 1 && e.data.sessionIds[0] === app.clientId,
            ),
          { what: "the end of the app's own tokens" },
        );
      } finally {
        await events.close();
      }
    });

    test('the consent screen explains a bad request on our own page', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { challenge } = pkce();
      const ask = (params: Record<string, string>) =>
        h.app.server.inject({
          url: `/api/v1/oauth/authorize?${new URLSearchParams({
            response_type: 'code',
            client_id: app.clientId,
            redirect_uri: CALLBACK,
            scope: 'user:read:email',
            code_challenge: challenge,
            code_challenge_method: 'S256',
            ...params,
          }).toString()}`,
          headers: viewer,
        });
      assert.equal((await ask({})).statusCode, 200);
      const unknownScope = await ask({ scope: 'user:read:email admin:everything' });
      assert.equal(unknownScope.statusCode, 400, unknownScope.body);
      assert.deepEqual(
        (({ code, detail, errors }) => ({ code, detail, errors }))(
          unknownScope.json<{ code: string; detail: string; errors: unknown }>(),
        ),
        {
          code: 'VALIDATION_FAILED',
          detail: 'The request names a scope that does not exist.',
          errors: [{ field: 'scope', message: 'has an unknown scope' }],
        },
      );
      const noClient = await ask({ client_id: 'nobody' });
      assert.equal(noClient.json<{ code: string }>().code, 'OAUTH_CLIENT_INVALID');
      assert.equal(
        noClient.json<{ detail: string }>().detail,
        'No application has this client id.',
      );
      const elsewhere = await ask({ redirect_uri: 'https://evil.example/callback' });
      assert.equal(elsewhere.json<{ code: string }>().code, 'OAUTH_REDIRECT_URI_INVALID');
      assert.equal(
        elsewhere.json<{ detail: string }>().detail,
        'The redirect URI is not one the application registered.',
      );
    });
  });
}
