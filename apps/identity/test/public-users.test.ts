import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OAuthScope, Problem, PublicUser, TokenResponse } from '@neon/contracts';
import { appHeaders, type Client } from '@neon/kit';
import { newAccount, start, variants, type Harness } from './harness.js';

for (const variant of variants()) {
  describe(`GET /public/v1/users (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;
    let ada: Client & { email: string };
    let bob: Client & { email: string };

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines);
      ada = await register();
      bob = await register();
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    async function register(): Promise<Client & { email: string }> {
      const account = newAccount('pu');
      const res = await h.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'x-refresh-token-transport': 'body' },
        payload: account,
      });
      assert.equal(res.statusCode, 201, res.body);
      const u = res.json<TokenResponse>().user;
      return { id: u.id, username: u.username, roles: u.roles, email: account.email };
    }
    const token = (scopes: OAuthScope[], user?: Client) =>
      appHeaders({ clientId: 'app-1', scopes, ...(user ? { user } : {}) }, h.secret);
    async function users(query: string, headers: Record<string, string>) {
      const res = await h.app.server.inject({ url: `/public/v1/users${query}`, headers });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ data: PublicUser[] }>().data;
    }

    test('by id and login, with an app token or a user token', async () => {
      const found = await users(`?id=${ada.id}&login=${bob.username.toUpperCase()}`, token([]));
      assert.deepEqual(found.map((u) => u.login).sort(), [ada.username, bob.username].sort());
      for (const u of found) assert.equal(u.email, undefined, 'no email to an app token');
      const one = found.find((u) => u.id === ada.id)!;
      assert.equal(one.displayName, ada.username);
      assert.ok(!Number.isNaN(Date.parse(one.createdAt)));
    });

    test('the email goes only to the token’s own user, and only with user:read:email', async () => {
      const [me] = await users('', token(['user:read:email'], ada));
      assert.equal(me!.id, ada.id);
      assert.equal(me!.email, ada.email);
      const [noScope] = await users('', token([], ada));
      assert.equal(noScope!.email, undefined);
      // Someone else's email stays hidden whatever the scope.
      const both = await users(`?id=${ada.id}&id=${bob.id}`, token(['user:read:email'], ada));
      assert.equal(both.find((u) => u.id === ada.id)!.email, ada.email);
      assert.equal(both.find((u) => u.id === bob.id)!.email, undefined);
      // An app token with the scope names no user: no email at all.
      const app = await users(`?id=${ada.id}`, token(['user:read:email']));
      assert.equal(app[0]!.email, undefined);
    });

    test('a suspended account is not shown; unknown ids are absent', async () => {
      const gone = await register();
      await h.db.query(`UPDATE identity.users SET suspended_at = now() WHERE id = $1`, [gone.id]);
      const found = await users(
        `?id=${gone.id}&login=${gone.username}&id=0190a0a0-0000-7000-8000-000000000000`,
        token([]),
      );
      assert.deepEqual(found, []);
    });

    test('bad input is a 400 problem, no token a 401', async () => {
      const bad = async (query: string, headers: Record<string, string>, status = 400) => {
        const res = await h.app.server.inject({ url: `/public/v1/users${query}`, headers });
        assert.equal(res.statusCode, status, `${query}: ${res.body}`);
        assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
        return res.json<Problem>();
      };
      assert.equal((await bad('', token([]))).code, 'VALIDATION_FAILED');
      await bad('?id=42', token([]));
      await bad('?login=no%20spaces', token([]));
      await bad(
        `?${Array.from({ length: 101 }, (_, i) => `login=user${i}x`).join('&')}`,
        token([]),
      );
      await bad('?email=someone@example.org', token([]));
      assert.equal((await bad(`?id=${ada.id}`, {}, 401)).code, 'AUTH_REQUIRED');
      // A session token's headers, without an OAuth app, are not a public API token.
      assert.equal((await bad(`?id=${ada.id}`, h.as(ada), 401)).code, 'AUTH_REQUIRED');
    });
  });
}
