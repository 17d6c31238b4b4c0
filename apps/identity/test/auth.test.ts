import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  API_AUDIENCE,
  REFRESH_COOKIE,
  SOCKET_AUDIENCE,
  type Me,
  type SocketTicket,
  type TokenResponse,
} from '@neon/contracts';
import { waitFor } from '@neon/testing';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { collect, newAccount, PUBLIC_URL, start, variants, type Harness } from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };

for (const variant of variants()) {
  describe(`identity auth (${variant.name})`, { skip: variant.skip }, () => {
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

    const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
      h.app.server.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

    async function register(account = newAccount()) {
      const res = await post('/api/v1/auth/register', account, BODY);
      assert.equal(res.statusCode, 201, res.body);
      return { account, session: res.json<TokenResponse>() };
    }

    async function jwks() {
      const res = await h.app.server.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(res.statusCode, 200);
      return createLocalJWKSet(res.json<JSONWebKeySet>());
    }

    function me(token: TokenResponse) {
      return h.as({ id: token.user.id, username: token.user.username, roles: token.user.roles });
    }

    test('register, log in, read /me, refresh, replay the rotated token, log out', async () => {
      const events = await collect(h.bus, ['identity.user.registered.v1']);
      const account = newAccount('Flow');
      const reg = await post('/api/v1/auth/register', account);
      assert.equal(reg.statusCode, 201, reg.body);
      const registered = reg.json<TokenResponse>();
      assert.equal(registered.user.username, account.username.toLowerCase());
      assert.deepEqual(registered.user.roles, ['user']);
      assert.equal(registered.refreshToken, undefined, 'browsers get the cookie, not the body');
      const cookie = String(reg.headers['set-cookie']);
      assert.match(cookie, new RegExp(`^${REFRESH_COOKIE}=[A-Za-z0-9_-]{43};`));
      assert.match(cookie, /Path=\/api\/v1\/auth/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.doesNotMatch(cookie, /Secure/, 'PUBLIC_URL is http here');

      const login = await post('/api/v1/auth/login', {
        login: account.email.toUpperCase(),
        password: account.password,
      });
      assert.equal(login.statusCode, 200, login.body);
      const session = login.json<TokenResponse>();
      assert.equal(session.expiresIn, 900);

      const { payload, protectedHeader } = await jwtVerify(session.accessToken, await jwks(), {
        issuer: PUBLIC_URL,
        audience: API_AUDIENCE,
        algorithms: ['RS256'],
      });
      assert.equal(payload.sub, session.user.id);
      assert.equal(payload.username, session.user.username);
      assert.deepEqual(payload.roles, ['user']);
      assert.equal(payload.exp! - payload.iat!, 900);
      assert.ok(payload.jti);
      assert.ok(protectedHeader.kid);
      assert.equal(protectedHeader.typ, 'JWT');
      // The session the token belongs to: ending it refuses the token at the gateway.
      const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      assert.match(String(payload.sid), UUID);
      assert.match(String(payload.jti), UUID);
      assert.notEqual(
        decodeJwt(registered.accessToken).sid,
        payload.sid,
        'one session per sign-in',
      );

      const meRes = await h.app.server.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: me(session),
      });
      assert.equal(meRes.statusCode, 200);
      assert.equal(meRes.json<Me>().email, account.email.toLowerCase());

      const first = /neon_refresh=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
      const r1 = await post('/api/v1/auth/refresh', undefined, {
        origin: PUBLIC_URL,
        cookie: `${REFRESH_COOKIE}=${first}`,
      });
      assert.equal(r1.statusCode, 200, r1.body);
      assert.equal(
        decodeJwt(r1.json<TokenResponse>().accessToken).sid,
        payload.sid,
        'a refresh stays in its session',
      );
      const second = /neon_refresh=([^;]+)/.exec(String(r1.headers['set-cookie']))![1]!;
      assert.notEqual(second, first, 'rotated on use');

      // The successor is used, so the first token is now a replay from outside the grace rules.
      const r2 = await post('/api/v1/auth/refresh', undefined, {
        origin: PUBLIC_URL,
        cookie: `${REFRESH_COOKIE}=${second}`,
      });
      assert.equal(r2.statusCode, 200);
      const third = /neon_refresh=([^;]+)/.exec(String(r2.headers['set-cookie']))![1]!;
      const replay = await post('/api/v1/auth/refresh', undefined, {
        origin: PUBLIC_URL,
        cookie: `${REFRESH_COOKIE}=${first}`,
      });
      assert.equal(replay.statusCode, 401);
      assert.equal(replay.json().code, 'AUTH_REFRESH_REUSED');
      const afterReplay = await post('/api/v1/auth/refresh', undefined, {
        origin: PUBLIC_URL,
        cookie: `${REFRESH_COOKIE}=${third}`,
      });
      assert.equal(afterReplay.statusCode, 401, 'the whole family is revoked');
      assert.equal(afterReplay.json().code, 'AUTH_REFRESH_INVALID');

      // Registration's own session still works, then logout ends it.
      const regToken = /neon_refresh=([^;]+)/.exec(cookie)![1]!;
      const out = await post('/api/v1/auth/logout', undefined, {
        origin: PUBLIC_URL,
        cookie: `${REFRESH_COOKIE}=${regToken}`,
      });
      assert.equal(out.statusCode, 204);
      assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
      const dead = await post('/api/v1/auth/refresh', undefined, {
        origin: PUBLIC_URL,
        cookie: `${REFRESH_COOKIE}=${regToken}`,
      });
      assert.equal(dead.json().code, 'AUTH_REFRESH_INVALID');

      await waitFor(() => events.events.find((e) => e.data.userId === registered.user.id), {
        what: 'registered event',
      });
      const event = events.events.find((e) => e.data.userId === registered.user.id)!;
      assert.equal(event.data.username, registered.user.username);
      await events.close();
    });

    test('body transport: refresh token in the body, never a cookie', async () => {
      const { session } = await register();
      assert.ok(session.refreshToken);
      const res = await post('/api/v1/auth/refresh', { refreshToken: session.refreshToken }, BODY);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['set-cookie'], undefined);
      const next = res.json<TokenResponse>().refreshToken!;
      assert.notEqual(next, session.refreshToken);
      const out = await post('/api/v1/auth/logout', { refreshToken: next }, BODY);
      assert.equal(out.statusCode, 204);
      const dead = await post('/api/v1/auth/refresh', { refreshToken: next }, BODY);
      assert.equal(dead.json().code, 'AUTH_REFRESH_INVALID');
    });

    test('two tabs refreshing with the same token get the same successor', async () => {
      const { session } = await register();
      const [a, b] = await Promise.all([
        post('/api/v1/auth/refresh', { refreshToken: session.refreshToken }, BODY),
        post('/api/v1/auth/refresh', { refreshToken: session.refreshToken }, BODY),
      ]);
      assert.equal(a.statusCode, 200, a.body);
      assert.equal(b.statusCode, 200, b.body);
      const successor = a.json<TokenResponse>().refreshToken!;
      assert.equal(b.json<TokenResponse>().refreshToken, successor);
      const next = await post('/api/v1/auth/refresh', { refreshToken: successor }, BODY);
      assert.equal(next.statusCode, 200, 'the family survives the race');
      // Once the successor was used, the original token is a replay.
      const replay = await post(
        '/api/v1/auth/refresh',
        { refreshToken: session.refreshToken },
        BODY,
      );
      assert.equal(replay.json().code, 'AUTH_REFRESH_REUSED');
    });

    test('refresh without a token, with a malformed one, with an unknown one', async () => {
      for (const payload of [
        undefined,
        { refreshToken: 'short' },
        { refreshToken: 'x'.repeat(43) },
      ]) {
        const res = await post('/api/v1/auth/refresh', payload, BODY);
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().code, 'AUTH_REFRESH_INVALID');
      }
      const tooLong = await post('/api/v1/auth/refresh', { refreshToken: 'x'.repeat(600) }, BODY);
      assert.equal(tooLong.json().code, 'VALIDATION_FAILED');
      const wrongType = await post('/api/v1/auth/refresh', { refreshToken: 42 }, BODY);
      assert.equal(wrongType.json().code, 'VALIDATION_FAILED');
    });

    test('idle and absolute lifetimes end a refresh token', async () => {
      const idle = (await register()).session;
      await h.db.query(
        `UPDATE identity.refresh_tokens SET idle_expires_at = now() - interval '1 second'
          WHERE family_id IN (SELECT id FROM identity.refresh_families WHERE user_id = $1)`,
        [idle.user.id],
      );
      const idleRes = await post('/api/v1/auth/refresh', { refreshToken: idle.refreshToken }, BODY);
      assert.equal(idleRes.json().code, 'AUTH_REFRESH_INVALID');

      const old = (await register()).session;
      const step = await post('/api/v1/auth/refresh', { refreshToken: old.refreshToken }, BODY);
      await h.db.query(
        `UPDATE identity.refresh_families SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [old.user.id],
      );
      const oldRes = await post(
        '/api/v1/auth/refresh',
        { refreshToken: step.json<TokenResponse>().refreshToken },
        BODY,
      );
      assert.equal(
        oldRes.json().code,
        'AUTH_REFRESH_INVALID',
        'rotation never extends the family past 30 days',
      );
    });

    test('unknown user and wrong password answer identically', async () => {
      const { account } = await register();
      const wrong = await post('/api/v1/auth/login', {
        login: account.username,
        password: 'not-the-password',
      });
      const unknown = await post('/api/v1/auth/login', {
        login: 'nobody_here',
        password: 'whatever-123',
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(unknown.statusCode, 401);
      assert.equal(wrong.json().code, 'AUTH_INVALID_CREDENTIALS');
      assert.equal(unknown.json().code, 'AUTH_INVALID_CREDENTIALS');
      assert.equal(wrong.json().detail, unknown.json().detail);
    });

    test('registration validation', async () => {
      const good = newAccount();
      const cases: [string, unknown][] = [
        ['username too short', { ...good, username: 'ab' }],
        ['username too long', { ...good, username: 'a'.repeat(26) }],
        ['username with a dash', { ...good, username: 'has-dash' }],
        ['username not a string', { ...good, username: 123 }],
        ['email malformed', { ...good, email: 'not-an-email' }],
        ['password too short', { ...good, password: 'Ab1!xyz' }],
        ['password too long', { ...good, password: 'x'.repeat(129) }],
        ['missing password', { username: good.username, email: good.email }],
        ['extra field', { ...good, admin: true }],
        ['no body', undefined],
        ['array body', [good]],
      ];
      for (const [what, payload] of cases) {
        const res = await h.app.server.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          ...(payload === undefined ? {} : { payload: payload as object }),
        });
        assert.equal(res.statusCode, 400, what);
        assert.equal(res.json().code, 'VALIDATION_FAILED', what);
      }
      const huge = await h.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ ...good, bio: 'x'.repeat(2 * 1024 * 1024) }),
      });
      assert.equal(huge.statusCode, 413);
      assert.equal(huge.json().code, 'PAYLOAD_TOO_LARGE');
    });

    test('login validation', async () => {
      for (const payload of [
        {},
        { login: 'a' },
        { login: '', password: 'x' },
        { login: 1, password: 'x' },
      ]) {
        const res = await post('/api/v1/auth/login', payload);
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'VALIDATION_FAILED');
      }
    });

    test('common passwords are refused, ignoring case', async () => {
      for (const password of ['password', 'Password1', 'iloveyou', 'qwertyuiop', '12345678']) {
        const res = await post('/api/v1/auth/register', { ...newAccount(), password });
        assert.equal(res.statusCode, 400, password);
        assert.equal(res.json().code, 'AUTH_PASSWORD_TOO_COMMON', password);
      }
      const account = newAccount();
      const own = await post('/api/v1/auth/register', { ...account, password: account.username });
      assert.equal(own.json().code, 'AUTH_PASSWORD_TOO_COMMON');
    });

    test('usernames and emails are unique ignoring case', async () => {
      const { account } = await register();
      const sameName = await post('/api/v1/auth/register', {
        ...newAccount(),
        username: account.username.toUpperCase(),
      });
      assert.equal(sameName.statusCode, 409);
      assert.equal(sameName.json().code, 'AUTH_USERNAME_TAKEN');
      const sameEmail = await post('/api/v1/auth/register', {
        ...newAccount(),
        email: account.email.toUpperCase(),
      });
      assert.equal(sameEmail.statusCode, 409);
      assert.equal(sameEmail.json().code, 'AUTH_EMAIL_TAKEN');
    });

    test('socket ticket: audience socket, 60 seconds, needs a user', async () => {
      const { session } = await register();
      const anon = await post('/api/v1/auth/socket-ticket');
      assert.equal(anon.statusCode, 401);
      assert.equal(anon.json().code, 'AUTH_REQUIRED');
      // Headers without the gateway's secret are anonymous.
      const forged = await post('/api/v1/auth/socket-ticket', undefined, {
        ...me(session),
        'x-neon-internal': 'not-the-secret',
      });
      assert.equal(forged.statusCode, 401);
      const res = await post('/api/v1/auth/socket-ticket', undefined, me(session));
      assert.equal(res.statusCode, 200);
      const ticket = res.json<SocketTicket>();
      assert.equal(ticket.expiresIn, 60);
      const { payload } = await jwtVerify(ticket.token, await jwks(), {
        issuer: PUBLIC_URL,
        audience: SOCKET_AUDIENCE,
      });
      assert.equal(payload.sub, session.user.id);
      assert.equal(payload.username, session.user.username);
      assert.equal(payload.exp! - payload.iat!, 60);
      await assert.rejects(jwtVerify(ticket.token, await jwks(), { audience: API_AUDIENCE }));
      assert.equal(decodeProtectedHeader(ticket.token).alg, 'RS256');
    });

    test('password change: checks the current one, ends every other session, keeps the caller in', async () => {
      const { account, session } = await register();
      const other = (
        await post(
          '/api/v1/auth/login',
          { login: account.username, password: account.password },
          BODY,
        )
      ).json<TokenResponse>();

      const noUser = await post('/api/v1/me/password', {
        currentPassword: account.password,
        newPassword: 'Brand-new-pass-42',
      });
      assert.equal(noUser.json().code, 'AUTH_REQUIRED');
      const wrong = await post(
        '/api/v1/me/password',
        { currentPassword: 'nope-nope', newPassword: 'Brand-new-pass-42' },
        me(session),
      );
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().code, 'AUTH_PASSWORD_WRONG');
      const common = await post(
        '/api/v1/me/password',
        { currentPassword: account.password, newPassword: 'password123' },
        me(session),
      );
      assert.equal(common.json().code, 'AUTH_PASSWORD_TOO_COMMON');
      const short = await post(
        '/api/v1/me/password',
        { currentPassword: account.password, newPassword: 'short' },
        me(session),
      );
      assert.equal(short.json().code, 'VALIDATION_FAILED');

      const ok = await post(
        '/api/v1/me/password',
        { currentPassword: account.password, newPassword: 'Brand-new-pass-42' },
        { ...me(session), ...BODY },
      );
      assert.equal(ok.statusCode, 200, ok.body);
      const fresh = ok.json<TokenResponse>().refreshToken!;

      for (const old of [session.refreshToken!, other.refreshToken!]) {
        const res = await post('/api/v1/auth/refresh', { refreshToken: old }, BODY);
        assert.equal(res.json().code, 'AUTH_REFRESH_INVALID');
      }
      assert.equal(
        (await post('/api/v1/auth/refresh', { refreshToken: fresh }, BODY)).statusCode,
        200,
      );
      const oldLogin = await post('/api/v1/auth/login', {
        login: account.username,
        password: account.password,
      });
      assert.equal(oldLogin.json().code, 'AUTH_INVALID_CREDENTIALS');
      const newLogin = await post('/api/v1/auth/login', {
        login: account.username,
        password: 'Brand-new-pass-42',
      });
      assert.equal(newLogin.statusCode, 200);
    });
  });
}
