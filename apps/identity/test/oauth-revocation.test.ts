import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OAuthAppWithSecret } from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { collect, start, variants, type Harness } from './harness.js';
import { CALLBACK, oauthClient, pkce } from './oauth-client.js';

/*
 * The authorization server's two edges a client meets when things go wrong:
 * revocation (RFC 7009), where only the authenticated holder of a token may
 * end its grant, and the consent check, which explains a bad request on our
 * own page rather than redirecting it.
 */
for (const variant of variants()) {
  describe(`OAuth revocation and consent checks (${variant.name})`, { skip: variant.skip }, () => {
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

    const { user, newApp, form, codeFor, exchange, refresh } = oauthClient(() => h);

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
      // No token: 400. No client, a wrong secret, an unknown client, a public client sending a
      // secret, a Basic header without a colon, with a wrong secret or under another scheme: 401.
      await problem(
        await form('/oauth2/revoke', { client_id: app.clientId, client_secret: app.clientSecret! }),
        400,
        'invalid_request',
      );
      const token = t.refresh_token;
      const unauthenticated: [Record<string, string>, Record<string, string>?][] = [
        [{ token }],
        [{ token, client_id: app.clientId, client_secret: 'wrong' }],
        [{ token, client_id: app.clientId }],
        [{ token, client_id: 'nobody', client_secret: 'x' }],
        [{ token, client_id: publicApp.clientId, client_secret: 'x' }],
        [{ token }, { authorization: `Basic ${Buffer.from(app.clientId).toString('base64')}` }],
        [{ token }, basic(app.clientId, 'wrong')],
        // Good credentials under a scheme that only ends in "basic" are not HTTP Basic.
        [{ token }, { authorization: `x${basic(app.clientId, app.clientSecret!).authorization}` }],
      ];
      for (const [params, headers] of unauthenticated)
        await problem(await form('/oauth2/revoke', params, headers), 401, 'invalid_client');
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
