import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Socket, type Channel } from 'phoenix';
import { WebSocket } from 'ws';
import type { JoinReply, Problem, SocketTicket, TokenResponse } from '@neon/contracts';
import {
  enrolTotp,
  createTestDatabase,
  engines,
  openSocket,
  skipUnless,
  uniqueName,
  waitFor,
  type TestDatabase,
  embeddedDataDir,
} from '@neon/testing';
import { adminCommands, identitySpec } from '@neon/identity';
import { loadConfig } from '@neon/kit';
import { startEmbedded, type Embedded } from '../../launcher/src/embedded.js';

const { databaseUrl, natsUrl, redisUrl } = engines();

const shapes = [
  { name: 'embedded', skip: false as const, engines: false },
  {
    name: 'PostgreSQL + NATS + Redis',
    skip:
      skipUnless(databaseUrl, 'TEST_DATABASE_URL') ||
      skipUnless(natsUrl, 'TEST_NATS_URL') ||
      skipUnless(redisUrl, 'TEST_REDIS_URL'),
    engines: true,
  },
];

interface Reply {
  status: string;
  response: Record<string, unknown>;
}

function settle(push: ReturnType<Channel['push']>): Promise<Reply> {
  return new Promise((resolve) => {
    push
      .receive('ok', (r: Record<string, unknown>) => resolve({ status: 'ok', response: r }))
      .receive('error', (r: Record<string, unknown>) => resolve({ status: 'error', response: r }))
      .receive('timeout', () => resolve({ status: 'timeout', response: {} }));
  });
}

// A demoted admin's ticket and token, minted before the demotion, are refused
// from the moment the demotion is answered: no window in which they still
// moderate another user's room.
for (const shape of shapes) {
  describe(
    `a role change takes effect when it is answered, ${shape.name}`,
    {
      skip: shape.skip,
    },
    () => {
      let neon: Embedded;
      let dataDir: string;
      let db: TestDatabase | undefined;
      const sockets: Socket[] = [];
      const password = 'correct horse battery staple';

      before(async () => {
        dataDir = await embeddedDataDir('neon-role-change-');
        const env: Record<string, string> = {
          LOG_LEVEL: 'warn',
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: '0',
          RTMP_HOST: '127.0.0.1',
          RTMP_PORT: '0',
          DATA_DIR: dataDir,
        };
        if (shape.engines) {
          db = await createTestDatabase(databaseUrl!);
          Object.assign(env, { DATABASE_URL: db.url, NATS_URL: natsUrl!, REDIS_URL: redisUrl! });
        }
        neon = await startEmbedded(env);
      });

      after(async () => {
        for (const s of sockets) s.disconnect();
        await neon?.close();
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      });

      const api = () => `${neon.url}/api/v1`;
      const wsUrl = () => `${neon.url.replace(/^http/, 'ws')}/socket`;

      async function post(url: string, body: unknown, token?: string): Promise<Response> {
        return fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });
      }

      async function signUp(): Promise<TokenResponse> {
        const username = uniqueName('r').toLowerCase().replace(/-/g, '_').slice(0, 25);
        const res = await post(`${api()}/auth/register`, {
          username,
          email: `${username}@example.com`,
          password,
        });
        assert.equal(res.status, 201, await res.clone().text());
        return (await res.json()) as TokenResponse;
      }

      async function admin(): Promise<TokenResponse> {
        const username = uniqueName('a').toLowerCase().replace(/-/g, '_').slice(0, 25);
        const commands = await adminCommands(
          neon.platform.db,
          neon.platform.logger,
          loadConfig(identitySpec, {}),
          neon.platform.publicUrl,
        );
        await commands.createAdmin({ username, email: `${username}@example.com`, password });
        const res = await post(`${api()}/auth/login`, { login: username, password });
        assert.equal(res.status, 200);
        const session = (await res.json()) as TokenResponse;
        // The admin API needs a second factor.
        const { accessToken } = await enrolTotp(neon.url, session.accessToken);
        return { ...session, accessToken };
      }

      async function ticket(accessToken: string): Promise<string> {
        const res = await post(`${api()}/auth/socket-ticket`, {}, accessToken);
        assert.equal(res.status, 200, await res.clone().text());
        return ((await res.json()) as SocketTicket).token;
      }

      function socket(token?: string): Socket {
        const s = new Socket(wsUrl(), {
          transport: WebSocket,
          ...(token ? { params: { token } } : {}),
          reconnectAfterMs: () => 60_000,
        });
        s.connect();
        sockets.push(s);
        return s;
      }

      /** Joins, retrying while chat has not yet heard of the channel's owner. */
      async function joinRoom(s: Socket, topic: string) {
        return waitFor(
          async () => {
            const channel = s.channel(topic);
            const r = await settle(channel.join());
            if (r.status === 'ok') return { channel, reply: r.response as unknown as JoinReply };
            channel.leave();
            return undefined;
          },
          { what: `joining ${topic}` },
        );
      }

      test('a demoted admin’s old ticket, socket and token cannot delete a message in another user’s room', async () => {
        const owner = await signUp();
        const viewer = await signUp();
        const topic = `room:${owner.user.username}`;
        const viewerSocket = socket(await ticket(viewer.accessToken));
        const { channel: viewerChannel } = await joinRoom(viewerSocket, topic);
        const sent = await settle(viewerChannel.push('shout', { body: 'keep me' }));
        assert.equal(sent.status, 'ok');
        const messageId = sent.response.id as string;

        const demoted = await admin();
        const demoter = await admin();
        // Both minted while the admin still is one: a socket already in the room, and a spare ticket.
        const openSocket_ = socket(await ticket(demoted.accessToken));
        const { channel: adminChannel, reply } = await joinRoom(openSocket_, topic);
        assert.equal(reply.moderator, true, 'an admin moderates every room');
        const spareTicket = await ticket(demoted.accessToken);

        const demote = await fetch(`${neon.url}/admin/v1/users/${demoted.user.id}/admin`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${demoter.accessToken}` },
        });
        assert.equal(demote.status, 200, await demote.text());

        // At once, no waiting: the spare ticket opens no socket.
        const late = await openSocket(`${wsUrl()}/websocket?vsn=2.0.0&token=${spareTicket}`);
        if (late.ok) late.ws.close();
        assert.equal(late.ok, false, 'the ticket minted before the demotion is refused');
        assert.equal(late.status, 401);
        assert.equal((JSON.parse(late.body) as Problem).code, 'AUTH_TICKET_INVALID');

        // The socket opened as an admin deletes nothing.
        const del = await settle(
          adminChannel.push('moderate', { action: 'delete', messageId }, 2000),
        );
        assert.notEqual(del.status, 'ok', 'the demoted admin’s socket still moderated');

        // The old access token no longer reaches the admin API.
        const adminApi = await fetch(`${neon.url}/admin/v1/users`, {
          headers: { authorization: `Bearer ${demoted.accessToken}` },
        });
        assert.equal(adminApi.status, 401, await adminApi.text());

        const reader = socket();
        const { reply: seen } = await joinRoom(reader, topic);
        assert.ok(
          seen.history.some((m) => m.id === messageId),
          'the message is still in the room',
        );
      });
    },
  );
}
