import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  REFRESH_TRANSPORT_HEADER,
  type Me,
  type Problem,
  type SocketTicket,
  type StreamKeyResponse,
  type TokenResponse,
} from '@neon/contracts';
import { publishStatus } from '@neon/rtmp/testing';
import {
  createTestDatabase,
  enrolTotp,
  engines,
  skipUnless,
  openSocket,
  uniqueName,
  waitFor,
  type TestDatabase,
  embeddedDataDir,
} from '@neon/testing';
import { adminCommands, identitySpec } from '@neon/identity';
import { loadConfig } from '@neon/kit';
import { startEmbedded, type Embedded } from '../../launcher/src/embedded.js';

const { databaseUrl, natsUrl, redisUrl } = engines();

const base = {
  LOG_LEVEL: 'warn',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  RTMP_HOST: '127.0.0.1',
  RTMP_PORT: '0',
  // A rotated token presented again is reuse at once, not a second tab.
  REFRESH_GRACE_SECONDS: '0',
  GATEWAY_AUTH_RATE_LIMIT: '5',
};

const shapes = [
  {
    name: 'embedded (PGlite, in-process bus, memory limits)',
    skip: false as const,
    engines: false,
  },
  {
    name: 'PostgreSQL + NATS + Redis',
    skip:
      skipUnless(databaseUrl, 'TEST_DATABASE_URL') ||
      skipUnless(natsUrl, 'TEST_NATS_URL') ||
      skipUnless(redisUrl, 'TEST_REDIS_URL'),
    engines: true,
  },
];

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

async function problemCode(res: Response, status: number): Promise<string> {
  return (await json<Problem>(res, status)).code;
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [REFRESH_TRANSPORT_HEADER]: 'body', ...headers },
    body: JSON.stringify(body),
  });
}

for (const shape of shapes) {
  describe(`sign-up to sign-out through the gateway, ${shape.name}`, { skip: shape.skip }, () => {
    let neon: Embedded;
    let dataDir: string;
    let db: TestDatabase | undefined;
    const username = uniqueName('u').toLowerCase().slice(0, 25);
    const password = 'correct horse battery staple';

    before(async () => {
      dataDir = await embeddedDataDir('neon-auth-flow-');
      const env: Record<string, string> = { ...base, DATA_DIR: dataDir };
      if (shape.engines) {
        db = await createTestDatabase(databaseUrl!);
        Object.assign(env, { DATABASE_URL: db.url, NATS_URL: natsUrl!, REDIS_URL: redisUrl! });
      }
      neon = await startEmbedded(env);
    });

    after(async () => {
      await neon?.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('register, login, me, refresh, reuse revokes the family, logout', async () => {
      const api = `${neon.url}/api/v1`;
      const registered = await json<TokenResponse>(
        await post(`${api}/auth/register`, {
          username,
          email: `${username}@example.com`,
          password,
        }),
        201,
      );
      assert.equal(registered.user.username, username);

      const login = await json<TokenResponse>(
        await post(`${api}/auth/login`, { login: username, password }),
        200,
      );
      assert.ok(login.refreshToken, 'a non-browser client gets its refresh token in the body');

      const me = await json<Me>(
        await fetch(`${api}/me`, { headers: { authorization: `Bearer ${login.accessToken}` } }),
        200,
      );
      assert.equal(me.username, username);
      assert.equal(me.email, `${username}@example.com`);

      const anonymous = await fetch(`${api}/me`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
      await anonymous.arrayBuffer();

      const forged = await fetch(`${api}/me`, {
        headers: { authorization: `Bearer ${login.accessToken}x` },
      });
      assert.equal(await problemCode(forged, 401), 'AUTH_TOKEN_INVALID');

      const refreshed = await json<TokenResponse>(
        await post(`${api}/auth/refresh`, { refreshToken: login.refreshToken }),
        200,
      );
      assert.ok(refreshed.refreshToken && refreshed.refreshToken !== login.refreshToken);

      const reused = await post(`${api}/auth/refresh`, { refreshToken: login.refreshToken });
      assert.equal(reused.status, 401);
      await reused.arrayBuffer();
      // The whole family is dead: the successor handed out above no longer works either.
      const successor = await post(`${api}/auth/refresh`, { refreshToken: refreshed.refreshToken });
      assert.equal(successor.status, 401);
      await successor.arrayBuffer();

      const again = await json<TokenResponse>(
        await post(`${api}/auth/login`, { login: username, password }),
        200,
      );
      const logout = await post(`${api}/auth/logout`, { refreshToken: again.refreshToken });
      assert.equal(logout.status, 204);
      const afterLogout = await post(`${api}/auth/refresh`, { refreshToken: again.refreshToken });
      assert.equal(afterLogout.status, 401);
      await afterLogout.arrayBuffer();
    });

    test('a socket ticket opens the chat socket once', async () => {
      const api = `${neon.url}/api/v1`;
      const session = await json<TokenResponse>(
        await post(`${api}/auth/login`, { login: username, password }),
        200,
      );
      const ticket = await json<SocketTicket>(
        await fetch(`${api}/auth/socket-ticket`, {
          method: 'POST',
          headers: { authorization: `Bearer ${session.accessToken}` },
        }),
        200,
      );
      const socketUrl = `${neon.url.replace(/^http/, 'ws')}/socket/websocket?vsn=2.0.0&token=${encodeURIComponent(ticket.token)}`;
      const first = await openSocket(socketUrl);
      assert.ok(first.ok, first.ok ? '' : `first use refused: ${first.status} ${first.body}`);
      first.ws.close();
      const second = await openSocket(socketUrl);
      assert.ok(!second.ok, 'a ticket works once');
      assert.equal(second.status, 401);
      assert.equal((JSON.parse(second.body) as Problem).code, 'AUTH_TICKET_INVALID');
      const anonymous = await openSocket(
        `${neon.url.replace(/^http/, 'ws')}/socket/websocket?vsn=2.0.0`,
      );
      assert.ok(anonymous.ok, 'no ticket is an anonymous socket');
      anonymous.ws.close();
    });

    test('an admin suspends a user: their access token stops working at once, and their stream key', async () => {
      const api = `${neon.url}/api/v1`;
      const victim = uniqueName('v').toLowerCase().slice(0, 25);
      const session = await json<TokenResponse>(
        await post(`${api}/auth/register`, {
          username: victim,
          email: `${victim}@example.com`,
          password,
        }),
        201,
      );
      const asVictim = { authorization: `Bearer ${session.accessToken}` };
      await json<Me>(await fetch(`${api}/me`, { headers: asVictim }), 200);
      const { streamKey } = await json<StreamKeyResponse>(
        await fetch(`${api}/me/stream-key`, { headers: asVictim }),
        200,
      );
      const rtmpPort = Number(new URL(neon.rtmpUrl!).port);
      assert.equal((await publishStatus(rtmpPort, streamKey)).code, 'NetStream.Publish.Start');

      // The first admin comes from the command line's code path, on the running platform's database.
      const admin = uniqueName('a').toLowerCase().slice(0, 25);
      const commands = await adminCommands(
        neon.platform.db,
        neon.platform.logger,
        loadConfig(identitySpec, {}),
        neon.platform.publicUrl,
      );
      await commands.createAdmin({ username: admin, email: `${admin}@example.com`, password });
      const adminLogin = await json<TokenResponse>(
        await post(`${api}/auth/login`, { login: admin, password }),
        200,
      );
      // The admin API needs a second factor: the admin enrols one first.
      const noFactor = await fetch(`${neon.url}/admin/v1/users`, {
        headers: { authorization: `Bearer ${adminLogin.accessToken}` },
      });
      assert.equal(await problemCode(noFactor, 403), 'AUTH_MFA_REQUIRED');
      const { accessToken: adminToken } = await enrolTotp(neon.url, adminLogin.accessToken);
      const suspend = await fetch(`${neon.url}/admin/v1/users/${session.user.id}/suspension`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ reason: 'spam' }),
      });
      assert.equal(suspend.status, 200, await suspend.text());

      // Identity's outbox → the bus → the gateway: asked until it lands, well inside 15 minutes.
      const refused = await waitFor(
        async () => {
          const r = await fetch(`${api}/me`, { headers: asVictim });
          if (r.status === 200) {
            await r.arrayBuffer();
            return false;
          }
          return r;
        },
        { what: 'the gateway to refuse the suspended user’s token' },
      );
      assert.equal(await problemCode(refused, 401), 'AUTH_TOKEN_INVALID');
      // Live heard it too: the key no longer starts a broadcast.
      const denied = await waitFor(
        async () => {
          const reply = await publishStatus(rtmpPort, streamKey);
          return reply.code === 'NetStream.Publish.Denied' && reply;
        },
        { what: 'live to refuse the suspended user’s stream key' },
      );
      assert.match(denied.description, /LIVE_ACCOUNT_SUSPENDED/);
      // The admin's own token is untouched.
      await json<Me>(
        await fetch(`${api}/me`, {
          headers: { authorization: `Bearer ${adminLogin.accessToken}` },
        }),
        200,
      );
    });

    test('a login brute force hits 429', async () => {
      const api = `${neon.url}/api/v1`;
      let last: Response | undefined;
      for (let i = 0; i < 8; i++) {
        last = await post(`${api}/auth/login`, {
          login: username,
          password: `wrong-${i}-password`,
        });
        if (last.status === 429) break;
        assert.equal(await problemCode(last, 401), 'AUTH_INVALID_CREDENTIALS');
      }
      assert.equal(last!.status, 429);
      assert.ok(Number(last!.headers.get('retry-after')) >= 1);
      assert.equal(await problemCode(last!, 429), 'RATE_LIMITED');
    });
  });
}
