import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import {
  REFRESH_TRANSPORT_HEADER,
  type Problem,
  type SocketTicket,
  type TokenResponse,
} from '@neon/contracts';
import {
  createTestDatabase,
  engines,
  openSocket,
  skipUnless,
  uniqueName,
  type TestDatabase,
  embeddedDataDir,
} from '@neon/testing';
import { startSmtpServer, type TestSmtpServer } from '@neon/testing/smtp';
import { startEmbedded, type Embedded } from '../../launcher/src/embedded.js';

const { databaseUrl, natsUrl, redisUrl } = engines();

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

const password = 'correct horse battery staple';

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

/** Resolves with the close code once the server closes the socket. */
function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    else ws.once('close', (code) => resolve(code));
  });
}

for (const shape of shapes) {
  describe(`ending a session through the gateway, ${shape.name}`, { skip: shape.skip }, () => {
    let neon: Embedded;
    let dataDir: string;
    let db: TestDatabase | undefined;
    let smtp: TestSmtpServer | undefined;
    const open: WebSocket[] = [];

    before(async () => {
      dataDir = await embeddedDataDir('neon-session-end-');
      // Where the password reset's mail goes (a real SMTP server in this process).
      smtp = await startSmtpServer();
      const env: Record<string, string> = {
        LOG_LEVEL: 'warn',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        RTMP_HOST: '127.0.0.1',
        RTMP_PORT: '0',
        DATA_DIR: dataDir,
        SMTP_URL: smtp.url,
      };
      if (shape.engines) {
        db = await createTestDatabase(databaseUrl!);
        Object.assign(env, { DATABASE_URL: db.url, NATS_URL: natsUrl!, REDIS_URL: redisUrl! });
      }
      neon = await startEmbedded(env);
    });

    after(async () => {
      for (const ws of open) ws.terminate();
      await neon?.close();
      await db?.drop();
      await smtp?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const api = () => `${neon.url}/api/v1`;

    function post(path: string, body: unknown, headers: Record<string, string> = {}) {
      return fetch(`${api()}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [REFRESH_TRANSPORT_HEADER]: 'body',
          ...headers,
        },
        body: JSON.stringify(body),
      });
    }

    async function signUp(): Promise<string> {
      const username = uniqueName('s').toLowerCase().slice(0, 25);
      await json<TokenResponse>(
        await post('/auth/register', { username, email: `${username}@example.com`, password }),
        201,
      );
      return username;
    }

    const login = async (username: string) =>
      json<TokenResponse>(await post('/auth/login', { login: username, password }), 200);

    /** A signed-in chat socket opened with a ticket minted by this access token. */
    async function chatSocket(accessToken: string): Promise<WebSocket> {
      const ticket = await json<SocketTicket>(
        await post('/auth/socket-ticket', {}, { authorization: `Bearer ${accessToken}` }),
        200,
      );
      const outcome = await openSocket(
        `${neon.url.replace(/^http/, 'ws')}/socket/websocket?vsn=2.0.0&token=${encodeURIComponent(ticket.token)}`,
      );
      assert.ok(outcome.ok, outcome.ok ? '' : `socket refused: ${outcome.status} ${outcome.body}`);
      open.push(outcome.ws);
      return outcome.ws;
    }

    async function me(accessToken: string): Promise<{ status: number; code?: string }> {
      const res = await fetch(`${api()}/me`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const body = (await res.json()) as Partial<Problem>;
      return body.code === undefined
        ? { status: res.status }
        : { status: res.status, code: body.code };
    }

    test('logout closes the session’s chat socket with 4001 and its access token gets 401 at once', async () => {
      const username = await signUp();
      const ending = await login(username);
      const other = await login(username);
      const socket = await chatSocket(ending.accessToken);
      const otherSocket = await chatSocket(other.accessToken);
      const socketClosed = closed(socket);
      assert.deepEqual(await me(ending.accessToken), { status: 200 });

      const logout = await post('/auth/logout', { refreshToken: ending.refreshToken });
      assert.equal(logout.status, 204);

      // Answered only after the end was published: the very next request is refused.
      assert.deepEqual(await me(ending.accessToken), { status: 401, code: 'AUTH_TOKEN_INVALID' });
      assert.equal(await socketClosed, 4001);
      // A ticket asked for with the ended session's token is refused too.
      const ticket = await post(
        '/auth/socket-ticket',
        {},
        { authorization: `Bearer ${ending.accessToken}` },
      );
      assert.equal((await json<Problem>(ticket, 401)).code, 'AUTH_TOKEN_INVALID');

      // The user's other session is untouched.
      assert.deepEqual(await me(other.accessToken), { status: 200 });
      assert.equal(otherSocket.readyState, WebSocket.OPEN);
      otherSocket.close();
    });

    test('logout with only the access token ends that session', async () => {
      const username = await signUp();
      const session = await login(username);
      const socket = await chatSocket(session.accessToken);
      const socketClosed = closed(socket);
      const logout = await post(
        '/auth/logout',
        {},
        { authorization: `Bearer ${session.accessToken}` },
      );
      assert.equal(logout.status, 204);
      assert.deepEqual(await me(session.accessToken), { status: 401, code: 'AUTH_TOKEN_INVALID' });
      assert.equal(await socketClosed, 4001);
      const refresh = await post('/auth/refresh', { refreshToken: session.refreshToken });
      assert.equal((await json<Problem>(refresh, 401)).code, 'AUTH_REFRESH_INVALID');
    });

    test('a password change ends every session, the caller’s too, and hands the caller a new one', async () => {
      const username = await signUp();
      const caller = await login(username);
      const other = await login(username);
      const callerSocket = await chatSocket(caller.accessToken);
      const otherSocket = await chatSocket(other.accessToken);
      const callerClosed = closed(callerSocket);
      const otherClosed = closed(otherSocket);

      const changed = await json<TokenResponse>(
        await post(
          '/me/password',
          { currentPassword: password, newPassword: 'a brand new passphrase 42' },
          { authorization: `Bearer ${caller.accessToken}` },
        ),
        200,
      );

      assert.deepEqual(await me(caller.accessToken), { status: 401, code: 'AUTH_TOKEN_INVALID' });
      assert.deepEqual(await me(other.accessToken), { status: 401, code: 'AUTH_TOKEN_INVALID' });
      assert.equal(await callerClosed, 4001);
      assert.equal(await otherClosed, 4001);
      const refresh = await post('/auth/refresh', { refreshToken: other.refreshToken });
      assert.equal((await json<Problem>(refresh, 401)).code, 'AUTH_REFRESH_INVALID');

      // The caller stays signed in with the new session, sockets included.
      assert.deepEqual(await me(changed.accessToken), { status: 200 });
      const fresh = await chatSocket(changed.accessToken);
      assert.equal(fresh.readyState, WebSocket.OPEN);
      fresh.close();
    });

    test('a password reset by mailed link ends every session: tokens refused, sockets closed', async () => {
      const username = await signUp();
      const first = await login(username);
      const second = await login(username);
      const socket = await chatSocket(first.accessToken);
      const socketClosed = closed(socket);

      const asked = await post('/auth/password-reset', { email: `${username}@example.com` });
      assert.equal(asked.status, 202);
      const mail = await smtp!.waitForMail(`${username}@example.com`, {
        match: (m) => m.subject === 'Reset your Neon password',
      });
      const token = /reset-password\?token=([\w-]+)/.exec(mail.text)?.[1];
      assert.ok(token, mail.text);
      const reset = await post('/auth/password-reset/confirm', {
        token,
        password: 'a brand new passphrase 43',
      });
      assert.equal(reset.status, 204, await reset.text());

      // Answered only after the end was published: the very next request is refused.
      assert.deepEqual(await me(first.accessToken), { status: 401, code: 'AUTH_TOKEN_INVALID' });
      assert.deepEqual(await me(second.accessToken), { status: 401, code: 'AUTH_TOKEN_INVALID' });
      assert.equal(await socketClosed, 4001);
      const refresh = await post('/auth/refresh', { refreshToken: second.refreshToken });
      assert.equal((await json<Problem>(refresh, 401)).code, 'AUTH_REFRESH_INVALID');
      const again = await post('/auth/password-reset/confirm', {
        token,
        password: 'another new passphrase 44',
      });
      assert.equal((await json<Problem>(again, 400)).code, 'AUTH_EMAIL_TOKEN_INVALID');
    });
  });
}
