import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConnectedAppList, OAuthAppWithSecret } from '@neon/contracts';
import { decodeJwt } from 'jose';
import { start, variants, type Harness } from './harness.js';
import { oauthClient, sha256Hex, type TokenBody } from './oauth-client.js';

/*
 * What a grant lets an application do over time: a second consent widens the
 * grant but not the codes, refresh tokens keep (or narrow) the scopes they
 * were issued for, work for their own client only, and stop at their
 * lifetime or while their user is suspended.
 */
for (const variant of variants()) {
  describe(`OAuth grants over time (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      // Not the 30-day default: a lifetime the tests can tell from any fallback.
      h = await start(engines, { OAUTH_REFRESH_SECONDS: '3600' });
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    const { user, newApp, form, codeFor, exchange, refresh } = oauthClient(() => h);

    /** The user's connected apps: grant id and scopes. */
    async function connections(asUser: Record<string, string>) {
      const res = await h.app.server.inject({ url: '/api/v1/oauth/connections', headers: asUser });
      assert.equal(res.statusCode, 200, res.body);
      return res
        .json<ConnectedAppList>()
        .items.map((i) => ({ grantId: i.grantId, scopes: i.scopes }));
    }

    /** Consents to `scope` and exchanges the code: the token answer. */
    async function authorized(
      asUser: Record<string, string>,
      app: OAuthAppWithSecret,
      scope?: string,
    ) {
      const { code, verifier } = await codeFor(asUser, app.clientId, { scope });
      const res = await exchange(app, code, verifier);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<TokenBody>();
    }

    const ok = async (res: Awaited<ReturnType<typeof refresh>>) => {
      assert.equal(res.statusCode, 200, res.body);
      return res.json<TokenBody>();
    };
    const refused = (res: Awaited<ReturnType<typeof refresh>>, error: string) => {
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<{ error: string }>().error, error);
    };

    test('a second consent widens the grant, but a code is good for the scopes it was issued for only', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const first = await authorized(viewer, app, 'user:read:email');
      assert.equal(first.scope, 'user:read:email');
      const grantId = decodeJwt(first.access_token).sid as string;
      assert.deepEqual(await connections(viewer), [{ grantId, scopes: ['user:read:email'] }]);

      // The same grant, now with both scopes; the new code carries the new scope alone.
      const second = await authorized(viewer, app, 'channel:read:followers');
      assert.equal(second.scope, 'channel:read:followers');
      assert.equal(decodeJwt(second.access_token).scope, 'channel:read:followers');
      assert.equal(decodeJwt(second.access_token).sid, grantId);
      assert.deepEqual(await connections(viewer), [
        { grantId, scopes: ['user:read:email', 'channel:read:followers'] },
      ]);
      // Neither refresh token reaches the other's scope; a refused widening leaves the token
      // good (the grant is not ended as if it had been reused).
      const renewed = await ok(await refresh(app, first.refresh_token));
      assert.equal(renewed.scope, 'user:read:email');
      refused(
        await refresh(app, second.refresh_token, { scope: 'user:read:email' }),
        'invalid_scope',
      );
      refused(
        await refresh(app, second.refresh_token, {
          scope: 'channel:read:followers user:read:email',
        }),
        'invalid_scope',
      );
      const kept = await ok(await refresh(app, second.refresh_token));
      assert.equal(kept.scope, 'channel:read:followers');
      assert.equal(decodeJwt(kept.access_token).sid, grantId);

      // Asking again for less, or for the same, narrows nothing; one scope more is added once.
      await authorized(viewer, app, 'user:read:email');
      await authorized(viewer, app, 'channel:read:followers user:read:email user:write:chat');
      assert.deepEqual(await connections(viewer), [
        { grantId, scopes: ['user:read:email', 'channel:read:followers', 'user:write:chat'] },
      ]);

      // Once the user disconnects the app, a new consent starts a new grant with its own scopes.
      const gone = await h.app.server.inject({
        method: 'DELETE',
        url: `/api/v1/oauth/connections/${grantId}`,
        headers: viewer,
      });
      assert.equal(gone.statusCode, 204);
      const fresh = await authorized(viewer, app, 'user:write:chat');
      const freshGrant = decodeJwt(fresh.access_token).sid as string;
      assert.notEqual(freshGrant, grantId);
      assert.deepEqual(await connections(viewer), [
        { grantId: freshGrant, scopes: ['user:write:chat'] },
      ]);
      refused(await refresh(app, renewed.refresh_token), 'invalid_grant');
    });

    test('a consent without a scope grants none, and its tokens carry none', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, app.clientId, { scope: undefined });
      const body = await ok(await exchange(app, code, verifier));
      assert.equal(decodeJwt(body.access_token).scope, '');
      assert.deepEqual(await connections(viewer), [
        { grantId: decodeJwt(body.access_token).sid as string, scopes: [] },
      ]);
      const next = await ok(await refresh(app, body.refresh_token));
      assert.equal(decodeJwt(next.access_token).scope, '');
      refused(
        await refresh(app, next.refresh_token, { scope: 'user:read:email' }),
        'invalid_scope',
      );
    });

    test('a refresh keeps its scopes, or narrows them for good', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const body = await authorized(viewer, app, 'user:read:email channel:read:followers');
      const same = await ok(await refresh(app, body.refresh_token));
      assert.equal(same.scope, 'user:read:email channel:read:followers');
      assert.equal(decodeJwt(same.access_token).scope, 'user:read:email channel:read:followers');
      const narrow = await ok(await refresh(app, same.refresh_token, { scope: 'user:read:email' }));
      assert.equal(narrow.scope, 'user:read:email');
      assert.equal(decodeJwt(narrow.access_token).scope, 'user:read:email');
      // The narrowed refresh token's successor cannot win the dropped scope back.
      const after = await ok(await refresh(app, narrow.refresh_token));
      assert.equal(after.scope, 'user:read:email');
      refused(
        await refresh(app, after.refresh_token, { scope: 'channel:read:followers' }),
        'invalid_scope',
      );
    });

    test("a refresh token is refused to another client, and stays its own client's", async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const thief = await newApp(owner);
      const publicThief = await newApp(owner, 'public');
      const body = await authorized(viewer, app, 'user:read:email');
      refused(await refresh(thief, body.refresh_token), 'invalid_grant');
      refused(await refresh(publicThief, body.refresh_token), 'invalid_grant');
      // Not a reuse: the holder's token was never spent.
      const next = await ok(await refresh(app, body.refresh_token));
      assert.equal(decodeJwt(next.access_token).client_id, app.clientId);
    });

    test('a refresh token lives OAUTH_REFRESH_SECONDS from its issue, then is refused', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const issued = Date.now();
      const body = await authorized(viewer, app, 'user:read:email');
      const [row] = await h.db.query<{ expires_at: Date }>(
        `SELECT expires_at FROM identity.oauth_refresh_tokens WHERE token_hash = $1`,
        [sha256Hex(body.refresh_token)],
      );
      assert.ok(row);
      const lifetime = (row.expires_at.getTime() - issued) / 1000;
      assert.ok(lifetime > 3590 && lifetime < 3610, `lives ${lifetime} s`);
      // An hour on: the token is refused, and it is not a reuse (a fresh code still works).
      await h.db.query(
        `UPDATE identity.oauth_refresh_tokens SET expires_at = now() - interval '1 second'
          WHERE token_hash = $1`,
        [sha256Hex(body.refresh_token)],
      );
      refused(await refresh(app, body.refresh_token), 'invalid_grant');
      await authorized(viewer, app, 'user:read:email');
    });

    test('an app token acts for nobody: an empty scope in it and in its answer, and no refresh token', async () => {
      const owner = await user();
      const app = await newApp(owner);
      const res = await form('/oauth2/token', {
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<Record<string, unknown>>();
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'scope',
        'token_type',
      ]);
      assert.equal(body.scope, '');
      assert.equal(decodeJwt(body.access_token as string).scope, '');
    });

    test("a suspended user's codes and refresh tokens issue nothing until the suspension is lifted", async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const body = await authorized(viewer, app, 'user:read:email');
      const pending = await codeFor(viewer, app.clientId);
      const viewerId = decodeJwt(body.access_token).sub!;
      const suspend = (on: boolean) =>
        h.db.query(
          `UPDATE identity.users SET suspended_at = ${on ? 'now()' : 'NULL'} WHERE id = $1`,
          [viewerId],
        );
      await suspend(true);
      refused(await exchange(app, pending.code, pending.verifier), 'invalid_grant');
      refused(await refresh(app, body.refresh_token), 'invalid_grant');
      await suspend(false);
      // The refresh token was not spent by the refusal.
      const next = await ok(await refresh(app, body.refresh_token));
      assert.equal(decodeJwt(next.access_token).sub, viewerId);
      assert.equal(decodeJwt(next.access_token).username, decodeJwt(body.access_token).username);
    });
  });
}
