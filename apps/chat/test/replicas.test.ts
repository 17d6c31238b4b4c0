import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { ChatMessage, JoinReply } from '@neon/contracts';
import { engines, waitFor } from '@neon/testing';
import { Socket, type Channel } from 'phoenix';
import {
  closed,
  collect,
  connect,
  disconnectAll,
  engineVariants,
  gatewayTransport,
  join,
  newUser,
  push,
  rawSocket,
  register,
  startReplica,
  type Deployment,
  type Replica,
  type TestUser,
} from './helpers.js';

const real = engineVariants().find((v) => v.name !== 'embedded')!;
const { redisUrl } = engines();

async function spawnReplica(d: Deployment): Promise<{ child: ChildProcess; socketUrl: string }> {
  const file = fileURLToPath(new URL('./fixtures/replica.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: {
      ...process.env,
      REPLICA_DATABASE_URL: d.databaseUrl,
      REPLICA_NATS_URL: d.natsUrl,
      REPLICA_REDIS_URL: redisUrl,
      REPLICA_NAMESPACE: d.namespace,
      REPLICA_SUBJECT: d.subject,
      REPLICA_SECRET: d.secret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`replica exited with ${c}`)));
  });
  return { child, socketUrl: `ws://127.0.0.1:${port}/socket` };
}

/**
 * A client behind a load balancer: each (re)connection goes to the first
 * replica of its preference that is still up, as the gateway would route it.
 */
function balancedSocket(d: Deployment, user: TestUser | null, prefer: () => string): Socket {
  const Base = gatewayTransport(d.secret, user);
  class Balanced extends Base {
    constructor(address: string | URL, protocols?: string | string[]) {
      const u = new URL(address);
      const target = new URL(prefer());
      u.host = target.host;
      super(u, protocols);
    }
  }
  const socket = new Socket('ws://placeholder/socket', {
    transport: Balanced,
    reconnectAfterMs: () => 50,
    rejoinAfterMs: () => 50,
  });
  socket.connect();
  return socket;
}

/** A reader that resumes from the last id it saw on every rejoin, and counts what it got. */
function reader(
  socket: Socket,
  topic: string,
): { socket: Socket; channel: Channel; ids: Set<string>; joined: Promise<void> } {
  const ids = new Set<string>();
  let last: string | undefined;
  const channel = socket.channel(topic, () => (last ? { last_seen_id: last } : {}));
  const see = (m: ChatMessage) => {
    ids.add(m.id);
    if (!last || m.id > last) last = m.id;
  };
  channel.on('shout', see);
  const joined = new Promise<void>((resolve) => {
    // The hook stays on the join push: every rejoin's reply (what was missed) runs it too.
    channel.join().receive('ok', (r: JoinReply) => {
      r.history.forEach(see);
      resolve();
    });
  });
  return { socket, channel, ids, joined };
}

describe('chat across replicas (postgres+nats+redis)', { skip: real.skip }, () => {
  let d: Deployment;
  let a: Replica;
  const owner = newUser('stage');

  before(async () => {
    d = await real.open();
    a = await startReplica(d, { CHAT_RATE_LIMIT: '100000', CHAT_RATE_LIMIT_MODERATOR: '100000' });
    await register(d, owner);
  });
  after(async () => {
    disconnectAll();
    await a.close();
    await d.cleanup();
  });

  test('a message sent on replica A reaches a client on replica B', async () => {
    const b = await startReplica(d);
    try {
      const onB = connect(b, d.secret, null).channel(`room:${owner.username}`);
      const got = collect<ChatMessage>(onB, 'shout');
      await join(onB);
      const onA = connect(a, d.secret, owner).channel(`room:${owner.username}`);
      await join(onA);
      const r = await push(onA, 'shout', { body: 'across' });
      await waitFor(() => got.find((m) => m.id === r.response.id), {
        what: 'cross-replica delivery',
      });
      // Moderation crosses too.
      const deleted = collect<{ id: string }>(onB, 'delete');
      await push(onA, 'moderate', { action: 'delete', messageId: r.response.id });
      await waitFor(() => deleted.length === 1, { what: 'cross-replica deletion' });
    } finally {
      await b.close();
    }
  });

  test(
    'a suspension ends the user’s sockets on every replica, not on one',
    { timeout: 20_000 },
    async () => {
      const b = await startReplica(d);
      try {
        const user = newUser('gone');
        await register(d, user);
        const onA = await rawSocket(a, d.secret, user);
        const onB = await rawSocket(b, d.secret, user);
        const endedA = closed(onA);
        const endedB = closed(onB);
        await d.bus.publish('identity.user.suspended.v1', {
          userId: user.id,
          username: user.username,
          suspendedAt: new Date().toISOString(),
        });
        assert.deepEqual(await Promise.all([endedA, endedB]), [4001, 4001]);
      } finally {
        await b.close();
      }
    },
  );

  test('killing a replica mid-stream of 1,000 messages loses no acknowledged message', async () => {
    const b = await spawnReplica(d);
    let bAlive = true;
    const topic = `room:${owner.username}`;
    const prefer = (first: 'a' | 'b') => () =>
      first === 'b' && bAlive ? b.socketUrl : a.socketUrl;
    const sockets: Socket[] = [];
    try {
      const readers = [
        reader(balancedSocket(d, null, prefer('a')), topic),
        reader(balancedSocket(d, null, prefer('b')), topic),
        reader(balancedSocket(d, null, prefer('b')), topic),
      ];
      for (const r of readers) sockets.push(r.socket);
      await Promise.all(readers.map((r) => r.joined));
      const senderSocket = balancedSocket(d, owner, prefer('b'));
      sockets.push(senderSocket);
      const sender = senderSocket.channel(topic);
      await join(sender);

      const acked: string[] = [];
      let attempts = 0;
      const window = new Set<Promise<void>>();
      for (let i = 0; i < 1000; i++) {
        if (i === 300) {
          b.child.kill('SIGKILL');
          bAlive = false;
        }
        attempts++;
        const p = push(sender, 'shout', { body: `m${i}` }).then((r) => {
          if (r.status === 'ok') acked.push(r.response.id as string);
        });
        window.add(p);
        void p.finally(() => window.delete(p));
        if (window.size >= 20) await Promise.race(window);
      }
      await Promise.all(window);
      assert.equal(attempts, 1000);
      // Most sends succeed; those in flight at the kill may not be acknowledged, and that is allowed.
      assert.ok(acked.length >= 900, `only ${acked.length} acknowledged`);
      for (const [i, r] of readers.entries()) {
        await waitFor(() => acked.every((id) => r.ids.has(id)), {
          what: `reader ${i} to hold all ${acked.length} acknowledged messages (has ${r.ids.size})`,
          timeoutMs: 20_000,
        });
      }
    } finally {
      for (const s of sockets) s.disconnect();
      if (bAlive) b.child.kill('SIGKILL');
    }
  });
});
