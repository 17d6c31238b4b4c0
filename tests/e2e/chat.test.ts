import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Socket, type Channel } from 'phoenix';
import { WebSocket } from 'ws';
import type { ChatMessage, JoinReply, SocketTicket, TokenResponse } from '@neon/contracts';
import {
  createTestDatabase,
  engines,
  skipUnless,
  uniqueName,
  waitFor,
  type TestDatabase,
  embeddedDataDir,
} from '@neon/testing';
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

for (const shape of shapes) {
  describe(`chat through the gateway, ${shape.name}`, { skip: shape.skip }, () => {
    let neon: Embedded;
    let dataDir: string;
    let db: TestDatabase | undefined;
    const sockets: Socket[] = [];
    const password = 'correct horse battery staple';

    before(async () => {
      dataDir = await embeddedDataDir('neon-chat-e2e-');
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

    async function signUp(): Promise<{ username: string; accessToken: string }> {
      const username = uniqueName('c').toLowerCase().slice(0, 25);
      const res = await fetch(`${neon.url}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, email: `${username}@example.com`, password }),
      });
      assert.equal(res.status, 201);
      const body = (await res.json()) as TokenResponse;
      return { username, accessToken: body.accessToken };
    }

    async function ticket(accessToken: string): Promise<string> {
      const res = await fetch(`${neon.url}/api/v1/auth/socket-ticket`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as SocketTicket).token;
    }

    function socket(token?: string): Socket {
      const s = new Socket(`${neon.url.replace(/^http/, 'ws')}/socket`, {
        transport: WebSocket,
        ...(token ? { params: { token } } : {}),
        reconnectAfterMs: () => 200,
      });
      s.connect();
      sockets.push(s);
      return s;
    }

    /** Joins, retrying while chat has not yet heard of the channel's owner. */
    async function joinRoom(
      s: Socket,
      topic: string,
    ): Promise<{ channel: Channel; reply: JoinReply }> {
      return waitFor(
        async () => {
          const channel = s.channel(topic);
          const r = await settle(channel.join());
          if (r.status === 'ok') return { channel, reply: r.response as unknown as JoinReply };
          channel.leave();
          assert.equal(r.response.code, 'CHAT_ROOM_NOT_FOUND');
          return undefined;
        },
        { what: `joining ${topic}` },
      );
    }

    test('register, ticket, join, shout: a viewer sees it; an anonymous socket cannot shout', async () => {
      const owner = await signUp();
      const viewer = await signUp();
      const topic = `room:${owner.username}`;

      const anon = socket();
      const { channel: anonChannel } = await joinRoom(anon, topic);
      const seen: ChatMessage[] = [];
      anonChannel.on('shout', (m: ChatMessage) => {
        seen.push(m);
      });

      const viewerSocket = socket(await ticket(viewer.accessToken));
      const { channel, reply } = await joinRoom(viewerSocket, topic);
      assert.equal(reply.moderator, false);
      const sent = await settle(channel.push('shout', { body: 'hello from e2e' }));
      assert.equal(sent.status, 'ok');
      await waitFor(() => seen.find((m) => m.id === sent.response.id), { what: 'broadcast' });
      const m = seen.find((x) => x.id === sent.response.id)!;
      assert.equal(m.body, 'hello from e2e');
      assert.equal(m.sender.username, viewer.username);

      const refused = await settle(anonChannel.push('shout', { body: 'anonymous' }));
      assert.equal(refused.status, 'error');
      assert.equal(refused.response.code, 'CHAT_AUTH_REQUIRED');

      // The owner moderates their own room, through the same path.
      const ownerSocket = socket(await ticket(owner.accessToken));
      const { channel: ownerChannel, reply: ownerReply } = await joinRoom(ownerSocket, topic);
      assert.equal(ownerReply.moderator, true);
      assert.equal(ownerReply.history.at(-1)?.id, sent.response.id);
      const del = await settle(
        ownerChannel.push('moderate', { action: 'delete', messageId: sent.response.id }),
      );
      assert.equal(del.status, 'ok');
    });
  });
}
