import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClientHeaders,
  PUBLIC_API_AUDIENCE,
  type AuthorizePreview,
  type ConnectedAppList,
  type OAuthAppList,
  type OAuthAppWithSecret,
} from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { collect, PUBLIC_URL, start, variants, type Harness } from './harness.js';
import { CALLBACK, oauthClient, pkce } from './oauth-client.js';

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

    const { user, newApp, form, consent, codeFor, exchange, refresh } = oauthClient(() => h);

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
  });
}
