import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConnectedAppList, OAuthAppWithSecret } from '@neon/contracts';
import { decodeJwt } from 'jose';
import { start, variants, type Harness } from './harness.js';
import { oauthClient, pkce, type TokenBody } from './oauth-client.js';
import { faultyDb } from './oauth-faults.js';

/*
 * A code or refresh token presented twice, one after the other or both at
 * once, means one of the two presenters is a thief: the grant ends, and
 * the record says why (what an operator looking into it reads).
 */
for (const variant of variants()) {
  describe(`OAuth code and refresh token reuse (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;

    let faults: ReturnType<typeof faultyDb>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      faults = faultyDb(engines.db);
      h = await start({ db: faults.db, bus: engines.bus });
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    const { user, newApp, form, codeFor, exchange, refresh } = oauthClient(() => h);

    /** Why the grant ended, or null while it is live. */
    async function revokedFor(grantId: string) {
      const [row] = await h.db.query<{ revoked_reason: string | null }>(
        `SELECT revoked_reason FROM identity.oauth_grants WHERE id = $1`,
        [grantId],
      );
      assert.ok(row, grantId);
      return row.revoked_reason;
    }

    async function tokens(asUser: Record<string, string>, app: OAuthAppWithSecret) {
      const { code, verifier } = await codeFor(asUser, app.clientId);
      const res = await exchange(app, code, verifier);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<TokenBody>();
      return { ...body, grantId: decodeJwt(body.access_token).sid as string };
    }

    test('each way a grant ends is recorded with its reason', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);

      const { code, verifier } = await codeFor(viewer, app.clientId);
      const first = await exchange(app, code, verifier);
      const grantId = decodeJwt(first.json<TokenBody>().access_token).sid as string;
      assert.equal(await revokedFor(grantId), null);
      assert.equal((await exchange(app, code, verifier)).statusCode, 400);
      assert.equal(await revokedFor(grantId), 'code-replay');

      const reused = await tokens(viewer, app);
      assert.equal((await refresh(app, reused.refresh_token)).statusCode, 200);
      assert.equal(await revokedFor(reused.grantId), null);
      assert.equal((await refresh(app, reused.refresh_token)).statusCode, 400);
      assert.equal(await revokedFor(reused.grantId), 'refresh-reuse');

      const byClient = await tokens(viewer, app);
      const revoked = await form('/oauth2/revoke', {
        token: byClient.refresh_token,
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(revoked.statusCode, 200);
      assert.equal(await revokedFor(byClient.grantId), 'client');

      const byAccess = await tokens(viewer, app);
      await form('/oauth2/revoke', {
        token: byAccess.access_token,
        client_id: app.clientId,
        client_secret: app.clientSecret!,
      });
      assert.equal(await revokedFor(byAccess.grantId), 'client');

      const byUser = await tokens(viewer, app);
      const gone = await h.app.server.inject({
        method: 'DELETE',
        url: `/api/v1/oauth/connections/${byUser.grantId}`,
        headers: viewer,
      });
      assert.equal(gone.statusCode, 204);
      assert.equal(await revokedFor(byUser.grantId), 'user');
    });

    test('one code exchanged twice at once: the grant ends, whoever got a token', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, app.clientId);
      // The grant exists from the consent on.
      const list = await h.app.server.inject({ url: '/api/v1/oauth/connections', headers: viewer });
      const grantId = list.json<ConnectedAppList>().items[0]!.grantId;
      // Both have read the code as unused before either marks it used.
      faults.gate(/UPDATE identity\.oauth_codes SET consumed_at/, 2);
      // And the winner's refresh token is stored after the loser has revoked the grant.
      faults.gate(
        /UPDATE identity\.oauth_grants SET revoked_at|INSERT INTO identity\.oauth_refresh_tokens/,
        2,
        /UPDATE identity\.oauth_grants/,
      );
      const both = await Promise.all([
        exchange(app, code, verifier),
        exchange(app, code, verifier),
      ]);
      const won = both.filter((r) => r.statusCode === 200);
      assert.equal(won.length, 1, 'one token for one code');
      assert.equal(await revokedFor(grantId), 'code-replay');
      for (const r of won)
        assert.equal((await refresh(app, r.json<TokenBody>().refresh_token)).statusCode, 400);
    });

    test('one refresh token used twice at once: the grant ends, whoever got a token', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const t = await tokens(viewer, app);
      // Both have read the token as unused before either marks it used.
      faults.gate(/UPDATE identity\.oauth_refresh_tokens SET rotated_at/, 2);
      const both = await Promise.all([
        refresh(app, t.refresh_token),
        refresh(app, t.refresh_token),
      ]);
      const won = both.filter((r) => r.statusCode === 200);
      assert.ok(won.length <= 1, `${won.length} successors for one refresh token`);
      assert.equal(await revokedFor(t.grantId), 'refresh-reuse');
      for (const r of won)
        assert.equal((await refresh(app, r.json<TokenBody>().refresh_token)).statusCode, 400);
    });

    test('a used code replayed by another client or with a wrong verifier still ends the grant', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const thief = await newApp(owner);
      for (const replay of [
        (code: string, verifier: string) => exchange(thief, code, verifier),
        (code: string) => exchange(app, code, pkce().verifier),
      ]) {
        const { code, verifier } = await codeFor(viewer, app.clientId);
        const first = await exchange(app, code, verifier);
        assert.equal(first.statusCode, 200, first.body);
        const grantId = decodeJwt(first.json<TokenBody>().access_token).sid as string;
        const res = await replay(code, verifier);
        assert.equal(res.json<{ error: string }>().error, 'invalid_grant');
        assert.equal(await revokedFor(grantId), 'code-replay');
      }
    });

    test('a spent refresh token presented by another client still ends the grant', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const thief = await newApp(owner);
      const t = await tokens(viewer, app);
      const next = await refresh(app, t.refresh_token);
      assert.equal(next.statusCode, 200, next.body);
      const res = await refresh(thief, t.refresh_token);
      assert.equal(res.json<{ error: string }>().error, 'invalid_grant');
      assert.equal(await revokedFor(t.grantId), 'refresh-reuse');
      assert.equal((await refresh(app, next.json<TokenBody>().refresh_token)).statusCode, 400);
    });

    test('a public client that sends a secret is refused at the token endpoint', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner, 'public');
      const { code, verifier } = await codeFor(viewer, app.clientId);
      const res = await exchange({ ...app, clientSecret: 'made-up' }, code, verifier);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<{ error: string }>().error, 'invalid_client');
      // The code was not spent on it.
      assert.equal((await exchange(app, code, verifier)).statusCode, 200);
    });
  });
}
