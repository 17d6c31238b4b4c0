import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  Problem,
  RecoveryCodes,
  RevokedSessions,
  SessionList,
  TokenResponse,
  TotpEnrolment,
} from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { collect, newAccount, start, variants, type Harness } from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

// "Your sessions" through identity's HTTP API, with the headers the gateway
// derives from each access token (`sid`, `sua`).
for (const variant of variants()) {
  describe(`sessions (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;
    let address = 0;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines);
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    function send(
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      options: { payload?: object; token?: string; userAgent?: string } = {},
    ) {
      address += 1;
      return h.app.server.inject({
        method,
        url,
        remoteAddress: `203.1.${address >> 8}.${address & 255}`,
        headers: {
          ...BODY,
          ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
          ...(options.token ? h.asToken(options.token) : {}),
        },
        ...(options.payload ? { payload: options.payload } : {}),
      });
    }

    const code = (res: { json<T>(): T }) => res.json<Problem>().code;
    const sid = (t: TokenResponse) => decodeJwt(t.accessToken).sid as string;

    /** An account signed in on three devices, oldest first. */
    async function threeDevices() {
      const account = newAccount('ses');
      const reg = await send('POST', '/api/v1/auth/register', {
        payload: account,
        userAgent: FIREFOX,
      });
      assert.equal(reg.statusCode, 201, reg.body);
      const login = async (userAgent: string) => {
        const res = await send('POST', '/api/v1/auth/login', {
          payload: { login: account.username, password: account.password },
          userAgent,
        });
        assert.equal(res.statusCode, 200, res.body);
        return res.json<TokenResponse>();
      };
      const first = reg.json<TokenResponse>();
      return { account, first, second: await login(SAFARI), third: await login(CHROME) };
    }

    async function list(token: string) {
      const res = await send('GET', '/api/v1/me/sessions', { token });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<SessionList>().items;
    }

    test('lists the caller’s sessions with their devices, the current one marked, newest use first', async () => {
      const { first, second, third } = await threeDevices();
      let items = await list(second.accessToken);
      assert.deepEqual(
        items.map((s) => [s.id, s.device, s.current]),
        [
          [sid(third), 'Chrome on Windows', false],
          [sid(second), 'Safari on iPhone', true],
          [sid(first), 'Firefox on Linux', false],
        ],
      );
      for (const s of items) {
        assert.equal(s.lastUsedAt, s.createdAt, 'not refreshed yet');
        assert.ok(Math.abs(Date.parse(s.createdAt) - Date.now()) < 60_000);
      }

      // A refresh is a use: the oldest session comes first, with its device kept.
      await h.db.query(
        `UPDATE identity.refresh_families SET created_at = created_at - interval '1 hour' WHERE id = $1`,
        [sid(first)],
      );
      const refreshed = await send('POST', '/api/v1/auth/refresh', {
        payload: { refreshToken: first.refreshToken },
        userAgent: CHROME,
      });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      items = await list(second.accessToken);
      assert.equal(items[0]!.id, sid(first));
      assert.equal(items[0]!.device, 'Firefox on Linux');
      assert.ok(Date.parse(items[0]!.lastUsedAt) - Date.parse(items[0]!.createdAt) > 3_000_000);

      // Ended, expired and idle sessions are not listed.
      await h.db.query(
        `UPDATE identity.refresh_families SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [sid(third)],
      );
      await h.db.query(
        `UPDATE identity.refresh_tokens SET idle_expires_at = now() - interval '1 second' WHERE family_id = $1`,
        [sid(first)],
      );
      assert.deepEqual(
        (await list(second.accessToken)).map((s) => s.id),
        [sid(second)],
      );
      const logout = await send('POST', '/api/v1/auth/logout', {
        payload: { refreshToken: second.refreshToken },
      });
      assert.equal(logout.statusCode, 204);
      assert.deepEqual(await list(second.accessToken), []);
    });

    test('signing out another session ends its refresh and announces it; the caller’s own lives on', async () => {
      const { first, second, third } = await threeDevices();
      const events = await collect(h.bus, ['identity.session.revoked.v1']);
      try {
        const res = await send('DELETE', `/api/v1/me/sessions/${sid(first)}`, {
          token: third.accessToken,
        });
        assert.equal(res.statusCode, 204, res.body);
        await waitFor(() => events.events.length > 0, { what: 'the revocation event' });
        assert.deepEqual(
          events.events.map((e) => [e.data.userId, e.data.sessionIds, e.data.reason]),
          [[first.user.id, [sid(first)], 'logout']],
        );
        const dead = await send('POST', '/api/v1/auth/refresh', {
          payload: { refreshToken: first.refreshToken },
        });
        assert.equal(dead.statusCode, 401);
        assert.equal(code(dead), 'AUTH_REFRESH_INVALID');
        assert.deepEqual(
          (await list(third.accessToken)).map((s) => s.id),
          [sid(third), sid(second)],
        );
        // Ended already: the same answer as an unknown id.
        const again = await send('DELETE', `/api/v1/me/sessions/${sid(first)}`, {
          token: third.accessToken,
        });
        assert.equal(again.statusCode, 404);
        assert.equal(code(again), 'AUTH_SESSION_NOT_FOUND');
      } finally {
        await events.close();
      }
    });

    test('"sign out of all other sessions" keeps the caller’s', async () => {
      const { first, second, third } = await threeDevices();
      const events = await collect(h.bus, ['identity.session.revoked.v1']);
      try {
        const res = await send('POST', '/api/v1/me/sessions/revoke-others', {
          token: second.accessToken,
        });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json<RevokedSessions>(), { revoked: 2 });
        await waitFor(() => events.events.length > 0, { what: 'the revocation event' });
        assert.equal(events.events.length, 1);
        assert.deepEqual(
          [...events.events[0]!.data.sessionIds].sort(),
          [sid(first), sid(third)].sort(),
        );
        const items = await list(second.accessToken);
        assert.deepEqual(
          items.map((s) => [s.id, s.current]),
          [[sid(second), true]],
        );
        for (const t of [first, third]) {
          const dead = await send('POST', '/api/v1/auth/refresh', {
            payload: { refreshToken: t.refreshToken },
          });
          assert.equal(code(dead), 'AUTH_REFRESH_INVALID');
        }
        const alive = await send('POST', '/api/v1/auth/refresh', {
          payload: { refreshToken: second.refreshToken },
        });
        assert.equal(alive.statusCode, 200, alive.body);
        // Nothing left to end: nothing announced.
        const none = await send('POST', '/api/v1/me/sessions/revoke-others', {
          token: second.accessToken,
        });
        assert.deepEqual(none.json<RevokedSessions>(), { revoked: 0 });
        assert.equal(events.events.length, 1);
      } finally {
        await events.close();
      }
    });

    test('another user’s session and an unknown id answer alike; a malformed id is a 400', async () => {
      const mine = await threeDevices();
      const theirs = await threeDevices();
      for (const id of [sid(theirs.first), '0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b']) {
        const res = await send('DELETE', `/api/v1/me/sessions/${id}`, {
          token: mine.first.accessToken,
        });
        assert.equal(res.statusCode, 404, id);
        assert.equal(code(res), 'AUTH_SESSION_NOT_FOUND');
      }
      assert.equal((await list(theirs.second.accessToken)).length, 3);
      for (const id of ['not-a-uuid', '1', `${sid(mine.second)}x`]) {
        const res = await send('DELETE', `/api/v1/me/sessions/${id}`, {
          token: mine.first.accessToken,
        });
        assert.equal(res.statusCode, 400, id);
        assert.equal(code(res), 'VALIDATION_FAILED');
      }
      assert.equal((await list(mine.first.accessToken)).length, 3);
    });

    test('without a token: 401 on each route', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/me/sessions'],
        ['DELETE', '/api/v1/me/sessions/0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b'],
        ['POST', '/api/v1/me/sessions/revoke-others'],
      ] as const) {
        const res = await send(method, url);
        assert.equal(res.statusCode, 401, url);
        assert.equal(code(res), 'AUTH_REQUIRED');
      }
    });

    test('with a second factor, ending sessions needs a recent check; listing does not', async () => {
      const { first, second } = await threeDevices();
      const userId = first.user.id;
      const begin = await send('POST', '/api/v1/me/mfa/totp', { token: second.accessToken });
      const secret = begin.json<TotpEnrolment>().secret;
      const done = await send('POST', '/api/v1/me/mfa/totp/confirm', {
        payload: { code: await generate({ secret }) },
        token: second.accessToken,
      });
      assert.equal(done.statusCode, 200, done.body);
      const fresh = done.json<RecoveryCodes>().accessToken;

      // Eleven minutes later: the refreshed token carries a stale check.
      await h.db.query(
        `UPDATE identity.refresh_families SET step_up_at = now() - interval '11 minutes' WHERE user_id = $1`,
        [userId],
      );
      const stale = (
        await send('POST', '/api/v1/auth/refresh', {
          payload: { refreshToken: second.refreshToken },
        })
      ).json<TokenResponse>().accessToken;
      assert.equal((await list(stale)).length, 3);
      const one = await send('DELETE', `/api/v1/me/sessions/${sid(first)}`, { token: stale });
      assert.equal(one.statusCode, 403);
      assert.equal(code(one), 'AUTH_STEP_UP_REQUIRED');
      const others = await send('POST', '/api/v1/me/sessions/revoke-others', { token: stale });
      assert.equal(code(others), 'AUTH_STEP_UP_REQUIRED');
      assert.equal((await list(stale)).length, 3, 'nothing ended');

      // A token whose check is recent may.
      const ok = await send('DELETE', `/api/v1/me/sessions/${sid(first)}`, { token: fresh });
      assert.equal(ok.statusCode, 204, ok.body);
    });
  });
}
