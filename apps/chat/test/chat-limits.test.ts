import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatMessage, JoinReply } from '@neon/contracts';
import { waitFor } from '@neon/testing';
import {
  closed,
  collect,
  connect,
  disconnectAll,
  engineVariants,
  join,
  newUser,
  push,
  rawSocket,
  register,
  startReplica,
  type Deployment,
  type Replica,
} from './helpers.js';

// The figures a client can count on, written out rather than read from the code.
const RESUME_LIMIT = 500;
const SOCKET_CLOSE_TOO_MANY = 4029;

for (const variant of engineVariants()) {
  describe(`chat limits and retries (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    // Two replicas on the same engines: what holds across them holds in the distributed shape.
    // Embedded, the process is the only replica: its sockets and broadcasts all stay on one.
    let a: Replica;
    let b: Replica;
    const shared = variant.name !== 'embedded';
    const owner = newUser('lim');
    const rooms = [newUser('lr1'), newUser('lr2'), newUser('lr3'), newUser('lr4')];
    const settings = {
      CHAT_RATE_LIMIT_MODERATOR: '100000',
      CHAT_FLUSH_MS: '20',
      CHAT_MAX_JOINS_PER_SOCKET: '3',
      CHAT_MAX_SOCKETS_PER_USER: '2',
    };

    before(async () => {
      d = await variant.open();
      a = await startReplica(d, settings);
      b = shared ? await startReplica(d, settings) : a;
      await register(d, owner, ...rooms);
    });

    after(async () => {
      disconnectAll();
      await a.close();
      if (shared) await b.close();
      await d.cleanup();
    });

    test('a retried shout with the same client_id is stored once and answered with the first id, on either replica', async () => {
      const topic = `room:${owner.username}`;
      const viewer = connect(a, d.secret, null).channel(topic);
      const seen = collect<ChatMessage>(viewer, 'shout');
      assert.equal((await join(viewer)).status, 'ok');
      const first = connect(a, d.secret, owner).channel(topic);
      assert.equal((await join(first)).status, 'ok');

      const clientId = `retry-${owner.id}`;
      const sent = await push(first, 'shout', { body: 'only once', client_id: clientId });
      assert.equal(sent.status, 'ok');
      // The ack was lost: the client retries, on a new socket that landed on the other replica.
      const retry = connect(b, d.secret, owner).channel(topic);
      assert.equal((await join(retry)).status, 'ok');
      const again = await push(retry, 'shout', { body: 'only once', client_id: clientId });
      assert.deepEqual(again, sent);
      // Two tries in flight together (one batch) also make one message.
      const [x, y] = await Promise.all([
        push(first, 'shout', { body: 'twice at once', client_id: `${clientId}-2` }),
        push(first, 'shout', { body: 'twice at once', client_id: `${clientId}-2` }),
      ]);
      assert.equal(x.status, 'ok');
      assert.deepEqual(y, x);
      // A different client id is a different message.
      const other = await push(first, 'shout', { body: 'only once', client_id: `${clientId}-3` });
      assert.notEqual(other.response.id, sent.response.id);

      await waitFor(() => seen.length >= 3, { what: 'three broadcasts' });
      const history = (
        (await join(connect(a, d.secret, null).channel(topic))).response as unknown as JoinReply
      ).history;
      assert.deepEqual(
        history.map((m) => m.body),
        ['only once', 'twice at once', 'only once'],
      );
      // Nothing more arrives for the retries.
      await push(first, 'shout', { body: 'marker' });
      await waitFor(() => seen.some((m) => m.body === 'marker'), { what: 'the marker' });
      assert.deepEqual(
        seen.map((m) => m.body),
        ['only once', 'twice at once', 'only once', 'marker'],
      );

      const tooLong = await push(first, 'shout', { body: 'x', client_id: 'c'.repeat(65) });
      assert.equal(tooLong.status, 'error');
      assert.equal(tooLong.response.code, 'CHAT_INVALID_MESSAGE');
      first.leave();
      retry.leave();
      viewer.leave();
    });

    test('a resume from further back than the history returns says so with gap', async () => {
      const room = rooms[3]!;
      const topic = `room:${room.username}`;
      const sender = connect(a, d.secret, room).channel(topic);
      assert.equal((await join(sender)).status, 'ok');
      const acks = [];
      for (let from = 0; from <= RESUME_LIMIT; from += 100) {
        const part = await Promise.all(
          Array.from({ length: Math.min(100, RESUME_LIMIT + 1 - from) }, (_, i) =>
            push(sender, 'shout', { body: `m${from + i}` }),
          ),
        );
        acks.push(...part);
      }
      assert.equal(acks.length, RESUME_LIMIT + 1);
      for (const r of acks) assert.equal(r.status, 'ok', JSON.stringify(r.response));
      const ids = acks.map((r) => r.response.id as string).sort();
      const resume = async (lastSeen: string) =>
        (await join(connect(b, d.secret, null).channel(topic, { last_seen_id: lastSeen })))
          .response as unknown as JoinReply;

      // 500 after the first: all of them, no gap.
      const whole = await resume(ids[0]!);
      assert.equal(whole.gap, false);
      assert.deepEqual(
        whole.history.map((m) => m.id),
        ids.slice(1),
      );
      // 501 after a point before them all: the newest 500, and the gap said.
      const before = await resume('00000000-0000-7000-8000-000000000000');
      assert.equal(before.gap, true);
      assert.deepEqual(
        before.history.map((m) => m.id),
        ids.slice(1),
      );
      const fresh = (await join(connect(b, d.secret, null).channel(topic)))
        .response as unknown as JoinReply;
      assert.equal(fresh.gap, false);
      sender.leave();
    });

    test(
      'a socket joins at most CHAT_MAX_JOINS_PER_SOCKET rooms at once',
      { timeout: 30_000 },
      async () => {
        const s = connect(a, d.secret, newUser('joiner'));
        const channels = rooms.map((r) => s.channel(`room:${r.username}`));
        for (const c of channels.slice(0, 3)) assert.equal((await join(c)).status, 'ok');
        const fourth = await join(channels[3]!);
        assert.equal(fourth.status, 'error');
        assert.equal(fourth.response.code, 'CHAT_TOO_MANY_JOINS');
        // phoenix retries a refused join on its own: this one is given up.
        channels[3]!.leave();
        // A rejoin of a room it is in is not one more.
        const rejoin = await join(s.channel(`room:${rooms[0]!.username}`));
        assert.equal(rejoin.status, 'ok', JSON.stringify(rejoin.response));
        // Leaving one makes room.
        channels[1]!.leave();
        await waitFor(() => channels[1]!.state === 'closed', { what: 'the leave' });
        const last = await join(s.channel(`room:${rooms[3]!.username}`));
        assert.equal(last.status, 'ok', JSON.stringify(last.response));
        s.disconnect();
      },
    );

    test(
      'a user holds at most CHAT_MAX_SOCKETS_PER_USER sockets across replicas; one more is closed with 4029',
      { timeout: 30_000 },
      async () => {
        const user = newUser('sock');
        const one = await rawSocket(a, d.secret, user);
        const two = await rawSocket(b, d.secret, user);
        const three = await rawSocket(a, d.secret, user);
        assert.equal(await closed(three), SOCKET_CLOSE_TOO_MANY);
        // The first two stay open.
        assert.equal(one.readyState, one.OPEN);
        assert.equal(two.readyState, two.OPEN);
        // An anonymous reader is nobody's: not counted.
        const anon = await Promise.all([1, 2, 3].map(() => rawSocket(a, d.secret, null)));
        // Once one closes, another may open.
        one.close();
        await closed(one);
        await waitFor(
          async () => {
            const next = await rawSocket(b, d.secret, user);
            const outcome = await Promise.race([
              closed(next),
              new Promise<'open'>((r) => setTimeout(() => r('open'), 300)),
            ]);
            if (outcome === 'open') {
              next.close();
              return true;
            }
            return false;
          },
          { what: 'a socket once another closed' },
        );
        for (const ws of [two, ...anon]) {
          assert.equal(ws.readyState, ws.OPEN);
          ws.close();
        }
      },
    );
  });
}
