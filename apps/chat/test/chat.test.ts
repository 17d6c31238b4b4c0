import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Socket as TcpSocket } from 'node:net';
import type {
  ChatMessage,
  EventOf,
  JoinReply,
  ModerationLogPage,
  RoomSettings,
} from '@neon/contracts';
import { clientHeaders } from '@neon/kit';
import { waitFor } from '@neon/testing';
import {
  closed,
  collect,
  connect,
  disconnectAll,
  engineVariants,
  join,
  newUser,
  nextFrame,
  push,
  rawSocket,
  register,
  startReplica,
  type Deployment,
  type Replica,
} from './helpers.js';

const code = (r: { response: Record<string, unknown> }) => r.response.code;

for (const variant of engineVariants()) {
  describe(`chat (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    let replica: Replica;
    const alice = newUser('alice');
    const bob = newUser('bob');
    const carol = newUser('carol');
    const mod = newUser('mod');

    before(async () => {
      d = await variant.open();
      replica = await startReplica(d, { CHAT_HEARTBEAT_TIMEOUT_MS: '60000' });
      await register(d, alice, bob, carol, mod);
    });

    after(async () => {
      disconnectAll();
      await replica.close();
      await d.cleanup();
    });

    test('two clients in a room receive the same message; an anonymous one cannot shout', async () => {
      const s1 = connect(replica, d.secret, bob);
      const s2 = connect(replica, d.secret, null);
      const c1 = s1.channel(`room:${alice.username}`);
      const c2 = s2.channel(`room:${alice.username}`);
      const got1 = collect<ChatMessage>(c1, 'shout');
      const got2 = collect<ChatMessage>(c2, 'shout');
      assert.equal((await join(c1)).status, 'ok');
      assert.equal((await join(c2)).status, 'ok');

      const sent = await push(c1, 'shout', { body: '  hello   room ' });
      assert.equal(sent.status, 'ok');
      const id = sent.response.id as string;
      await waitFor(() => got1.length > 0 && got2.length > 0, { what: 'both to receive' });
      assert.deepEqual(got1, got2);
      const m = got1[0]!;
      assert.equal(m.id, id);
      assert.equal(m.body, 'hello   room');
      assert.deepEqual(m.sender, {
        id: bob.id,
        username: bob.username,
        displayName: bob.displayName,
        badges: [],
      });
      assert.ok(Math.abs(Date.parse(m.sentAt) - Date.now()) < 60_000);

      const anon = await push(c2, 'shout', { body: 'let me in' });
      assert.equal(anon.status, 'error');
      assert.equal(code(anon), 'CHAT_AUTH_REQUIRED');
    });

    test('each accepted message is published once as chat.message.created.v1', async () => {
      const writer = newUser('bus');
      await register(d, writer);
      const events: EventOf<'chat.message.created.v1'>[] = [];
      const sub = await d.bus.subscribe({
        types: ['chat.message.created.v1'],
        handler: async (e) => {
          events.push(e);
        },
      });
      try {
        const c = connect(replica, d.secret, writer).channel(`room:${alice.username}`);
        const got = collect<ChatMessage>(c, 'shout');
        await join(c);
        assert.equal(code(await push(c, 'shout', { body: ' \u0007 ' })), 'CHAT_BODY_EMPTY');
        const sent = await push(c, 'shout', { body: '  onto the bus ' });
        assert.equal(sent.status, 'ok');
        const id = sent.response.id as string;
        const event = await waitFor(() => events.find((e) => e.data.id === id), {
          what: 'the message event',
        });
        const m = await waitFor(() => got.find((x) => x.id === id), { what: 'the broadcast' });
        assert.equal(event.type, 'chat.message.created.v1');
        // One event per message: its envelope id is the message id.
        assert.equal(event.id, id);
        assert.equal(event.occurredAt, m.sentAt);
        assert.deepEqual(event.data, {
          id,
          channel: alice.username,
          senderId: writer.id,
          body: 'onto the bus',
          sentAt: m.sentAt,
        });
        // The refused message published nothing.
        assert.deepEqual(
          events.filter((e) => e.data.senderId === writer.id).map((e) => e.data.id),
          [id],
        );
      } finally {
        await sub.close();
      }
    });

    test('identity without the gateway secret is ignored: the socket is anonymous', async () => {
      // Query parameters naming a user, sent straight to the service.
      const s = connect(replica, d.secret, false, { id: bob.id, username: bob.username });
      const c = s.channel(`room:${alice.username}`);
      assert.equal((await join(c)).status, 'ok');
      assert.equal(code(await push(c, 'shout', { body: 'spoofed' })), 'CHAT_AUTH_REQUIRED');
    });

    test('join carries history; a rejoin with last_seen_id gets exactly what it missed, in order', async () => {
      const room = `room:${carol.username}`;
      const owner = connect(replica, d.secret, carol);
      const oc = owner.channel(room);
      await join(oc);
      for (let i = 0; i < 5; i++)
        assert.equal((await push(oc, 'shout', { body: `early ${i}` })).status, 'ok');

      const viewer = connect(replica, d.secret, null);
      let lastSeen: string | undefined;
      const vc = viewer.channel(room, () => (lastSeen ? { last_seen_id: lastSeen } : {}));
      vc.on('shout', (m: ChatMessage) => {
        lastSeen = m.id;
      });
      const first = (await join(vc)).response as unknown as JoinReply;
      assert.deepEqual(
        first.history.map((m) => m.body),
        [0, 1, 2, 3, 4].map((i) => `early ${i}`),
      );
      lastSeen = first.history.at(-1)!.id;
      vc.leave();
      await waitFor(() => vc.state === 'closed', { what: 'leave' });

      const sentIds: string[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await push(oc, 'shout', { body: `missed ${i}` });
        assert.equal(r.status, 'ok');
        sentIds.push(r.response.id as string);
      }
      const again = viewer.channel(room, { last_seen_id: lastSeen });
      const resumed = (await join(again)).response as unknown as JoinReply;
      assert.deepEqual(
        resumed.history.map((m) => m.id),
        sentIds,
      );
      assert.deepEqual(
        resumed.history.map((m) => m.body),
        sentIds.map((_, i) => `missed ${i}`),
      );
      // A fresh join sees all 35: fewer than the window (chat-history-window.test.ts pins it at 50).
      const fresh = connect(replica, d.secret, null).channel(room);
      const h = ((await join(fresh)).response as unknown as JoinReply).history;
      assert.equal(h.length, 35);
    });

    test('a rejoin with last_seen_id learns of the messages it had that were deleted while it was away', async () => {
      const owner = newUser('away');
      await register(d, owner);
      const room = `room:${owner.username}`;
      const oc = connect(replica, d.secret, owner).channel(room);
      await join(oc);
      const shout = async (body: string) => {
        const r = await push(oc, 'shout', { body });
        assert.equal(r.status, 'ok');
        return r.response.id as string;
      };
      const remove = async (id: string) =>
        assert.equal(
          (await push(oc, 'moderate', { action: 'delete', messageId: id })).status,
          'ok',
        );
      const early = await shout('in the join history');
      const kept = await shout('stays');

      // A joins, sees its history, then m live.
      const a = connect(replica, d.secret, null);
      let lastSeen: string | undefined;
      const replies: JoinReply[] = [];
      const ac = a.channel(room, () => (lastSeen ? { last_seen_id: lastSeen } : {}));
      ac.on('shout', (msg: ChatMessage) => {
        lastSeen = msg.id;
      });
      ac.join().receive('ok', (r: JoinReply) => {
        replies.push(r);
        lastSeen = r.history.at(-1)?.id ?? lastSeen;
      });
      await waitFor(() => replies.length === 1, { what: 'the first join' });
      assert.deepEqual(
        replies[0]!.history.map((x) => x.id),
        [early, kept],
      );
      assert.deepEqual(replies[0]!.deleted, []);
      const m = await shout('m');
      await waitFor(() => lastSeen === m, { what: 'A to see m' });

      // A drops; meanwhile a moderator deletes m and an older message A had,
      // and a message A never saw comes and goes.
      a.disconnect();
      await waitFor(() => !a.isConnected() && ac.state !== 'joined', { what: 'A to drop' });
      await remove(m);
      await remove(early);
      await remove(await shout('never seen by A'));
      const missed = await shout('missed');

      a.connect();
      await waitFor(() => replies.length === 2, { what: 'the rejoin' });
      const resumed = replies[1]!;
      assert.deepEqual(resumed.deleted, [early, m]);
      assert.deepEqual(
        resumed.history.map((x) => x.id),
        [missed],
      );
    });

    test('bad input gets its code and the socket survives', async () => {
      const s = connect(replica, d.secret, bob);
      const c = s.channel(`room:${alice.username}`);
      const got = collect<ChatMessage>(c, 'shout');
      await join(c);
      assert.equal(code(await push(c, 'shout', { body: 'x'.repeat(501) })), 'CHAT_BODY_TOO_LONG');
      assert.equal(code(await push(c, 'shout', { body: '   \u0000\u0007 ' })), 'CHAT_BODY_EMPTY');
      assert.equal(code(await push(c, 'shout', { body: 42 })), 'CHAT_INVALID_MESSAGE');
      assert.equal(code(await push(c, 'dance', {})), 'CHAT_UNKNOWN_EVENT');
      const html = '<img src=x onerror=alert(1)><script>alert(2)</script>';
      const ok = await push(c, 'shout', { body: html });
      assert.equal(ok.status, 'ok');
      await waitFor(() => got.find((m) => m.id === ok.response.id), { what: 'html message' });
      assert.equal(got.find((m) => m.id === ok.response.id)!.body, html);

      const missing = s.channel('room:nobody_here_at_all');
      assert.equal(code(await join(missing)), 'CHAT_ROOM_NOT_FOUND');
      assert.equal(code(await join(s.channel('lobby'))), 'CHAT_ROOM_NOT_FOUND');
      // Still alive after all that.
      assert.equal((await push(c, 'shout', { body: 'still here' })).status, 'ok');
    });

    test('a suspension ends the user’s sockets; a role change ends those opened with the old roles', async () => {
      const erin = { ...newUser('erin'), roles: ['user', 'admin'] as ('user' | 'admin')[] };
      const dave = newUser('dave');
      await register(d, erin, dave);
      const asAdmin = await rawSocket(replica, d.secret, erin);
      const asUser = await rawSocket(replica, d.secret, { ...erin, roles: ['user'] });
      const other = await rawSocket(replica, d.secret, dave);
      const adminClosed = closed(asAdmin);
      const daveClosed = closed(other);

      await d.bus.publish('identity.roles.changed.v1', {
        userId: erin.id,
        username: erin.username,
        roles: ['user'],
        changedAt: new Date().toISOString(),
      });
      // 4001: the client opens a new socket with a new ticket, which carries the roles held now.
      assert.equal(await adminClosed, 4001);
      assert.equal(
        asUser.readyState,
        asUser.OPEN,
        'the socket opened with the current roles stays',
      );
      assert.equal(other.readyState, other.OPEN, 'another user is untouched');

      await d.bus.publish('identity.user.suspended.v1', {
        userId: dave.id,
        username: dave.username,
        suspendedAt: new Date().toISOString(),
      });
      assert.equal(await daveClosed, 4001);
      assert.equal(asUser.readyState, asUser.OPEN);
      asUser.close();
    });

    test('invalid frames get an error reply; oversized frames close with 1009; the server lives on', async () => {
      const ws = await rawSocket(replica, d.secret, bob);
      const reply = nextFrame(ws, (f) => f[3] === 'phx_reply');
      ws.send('this is not json');
      const r = (await reply) as [
        null,
        null,
        string,
        string,
        { status: string; response: { code: string } },
      ];
      assert.equal(r[4].status, 'error');
      assert.equal(r[4].response.code, 'CHAT_INVALID_MESSAGE');

      const notJoined = nextFrame(ws, (f) => f[1] === '7');
      ws.send(JSON.stringify([null, '7', `room:${alice.username}`, 'shout', { body: 'hi' }]));
      assert.equal(
        ((await notJoined)[4] as { response: { code: string } }).response.code,
        'CHAT_NOT_JOINED',
      );

      const hb = nextFrame(ws, (f) => f[1] === '8');
      ws.send(JSON.stringify([null, '8', 'phoenix', 'heartbeat', {}]));
      assert.deepEqual(await hb, [
        null,
        '8',
        'phoenix',
        'phx_reply',
        { status: 'ok', response: {} },
      ]);

      const done = closed(ws);
      ws.send(JSON.stringify([null, '9', 'phoenix', 'heartbeat', { pad: 'x'.repeat(17 * 1024) }]));
      assert.equal(await done, 1009);

      const again = await rawSocket(replica, d.secret, bob);
      const hb2 = nextFrame(again, (f) => f[1] === '1');
      again.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}]));
      assert.equal((await hb2)[3], 'phx_reply');
      again.close();
    });

    test('joining a room twice on one socket delivers each message once', async () => {
      const ws = await rawSocket(replica, d.secret, null);
      const frames: unknown[][] = [];
      ws.on('message', (data) =>
        frames.push(JSON.parse((data as Buffer).toString('utf8')) as unknown[]),
      );
      const topic = `room:${alice.username}`;
      ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
      ws.send(JSON.stringify(['2', '2', topic, 'phx_join', {}]));
      await waitFor(() => frames.filter((f) => f[3] === 'phx_reply').length === 2, {
        what: 'both join replies',
      });
      const c = connect(replica, d.secret, bob).channel(topic);
      await join(c);
      const sent = await push(c, 'shout', { body: 'once' });
      const mine = () =>
        frames.filter((f) => f[3] === 'shout' && (f[4] as ChatMessage).id === sent.response.id);
      await waitFor(() => mine().length > 0, { what: 'the broadcast' });
      const hb = nextFrame(ws, (f) => f[1] === 'hb');
      ws.send(JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', {}]));
      await hb;
      assert.equal(mine().length, 1);
      ws.close();
    });

    test('a flood is cut at 20 messages per 30 s with CHAT_RATE_LIMITED', async () => {
      const flooder = newUser('flood');
      await register(d, flooder);
      const c = connect(replica, d.secret, flooder).channel(`room:${alice.username}`);
      await join(c);
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) => push(c, 'shout', { body: `spam ${i}` })),
      );
      assert.equal(results.filter((r) => r.status === 'ok').length, 20);
      assert.deepEqual(
        [...new Set(results.filter((r) => r.status === 'error').map(code))],
        ['CHAT_RATE_LIMITED'],
      );
    });

    test('moderation: delete reaches everyone; timeout and ban refuse; slow mode holds; all logged', async () => {
      const room = `room:${alice.username}`;
      const owner = connect(replica, d.secret, alice).channel(room);
      const viewer = connect(replica, d.secret, null).channel(room);
      const user = connect(replica, d.secret, bob).channel(room);
      const deletions = collect<{ id: string }>(viewer, 'delete');
      const ownerDeletions = collect<{ id: string }>(owner, 'delete');
      const settingsSeen = collect<RoomSettings>(viewer, 'settings');
      const ownerJoin = (await join(owner)).response as unknown as JoinReply;
      assert.equal(ownerJoin.moderator, true);
      assert.equal(((await join(viewer)).response as unknown as JoinReply).moderator, false);
      await join(user);

      // Not a moderator.
      assert.equal(
        code(await push(user, 'moderate', { action: 'ban', userId: carol.id })),
        'CHAT_NOT_MODERATOR',
      );
      assert.equal(
        code(await push(viewer, 'moderate', { action: 'slow', seconds: 5 })),
        'CHAT_AUTH_REQUIRED',
      );
      assert.equal(
        code(await push(owner, 'moderate', { action: 'timeout', userId: bob.id, seconds: 0 })),
        'CHAT_INVALID_MESSAGE',
      );
      assert.equal(
        code(await push(owner, 'moderate', { action: 'ban', userId: alice.id })),
        'CHAT_TARGET_PROTECTED',
      );

      const msg = await push(user, 'shout', { body: 'delete me' });
      const id = msg.response.id as string;
      assert.equal(
        (await push(owner, 'moderate', { action: 'delete', messageId: id })).status,
        'ok',
      );
      await waitFor(() => deletions.length > 0 && ownerDeletions.length > 0, { what: 'deletion' });
      assert.deepEqual(deletions, [{ id }]);
      assert.equal(
        code(await push(owner, 'moderate', { action: 'delete', messageId: id })),
        'CHAT_MESSAGE_NOT_FOUND',
      );
      const history = (
        (await join(connect(replica, d.secret, null).channel(room)))
          .response as unknown as JoinReply
      ).history;
      assert.equal(
        history.some((m) => m.id === id),
        false,
      );

      assert.equal(
        (await push(owner, 'moderate', { action: 'timeout', userId: bob.id, seconds: 600 })).status,
        'ok',
      );
      assert.equal(code(await push(user, 'shout', { body: 'hi' })), 'CHAT_TIMED_OUT');
      assert.equal(
        (await push(owner, 'moderate', { action: 'ban', userId: bob.id, reason: 'spam' })).status,
        'ok',
      );
      assert.equal(code(await push(user, 'shout', { body: 'hi' })), 'CHAT_BANNED');
      assert.equal(
        (await push(owner, 'moderate', { action: 'unban', userId: bob.id })).status,
        'ok',
      );
      assert.equal((await push(user, 'shout', { body: 'back' })).status, 'ok');

      // A moderator appointed through the channels domain.
      await d.bus.publish('channels.role.granted.v1', {
        channel: alice.username,
        userId: mod.id,
        username: mod.username,
        role: 'moderator',
      });
      const modSocket = connect(replica, d.secret, mod);
      const modChan = await waitFor(
        async () => {
          const ch = modSocket.channel(room);
          const r = await join(ch);
          if ((r.response as unknown as JoinReply).moderator) return ch;
          ch.leave();
          return undefined;
        },
        { what: 'moderator role to arrive' },
      );
      assert.equal((await push(modChan, 'moderate', { action: 'slow', seconds: 30 })).status, 'ok');
      await waitFor(() => settingsSeen.find((s) => s.slowSeconds === 30), {
        what: 'settings broadcast',
      });
      assert.equal((await push(user, 'shout', { body: 'one' })).status, 'ok');
      assert.equal(code(await push(user, 'shout', { body: 'two' })), 'CHAT_SLOW_MODE');
      // Moderators are exempt.
      assert.equal((await push(modChan, 'shout', { body: 'm1' })).status, 'ok');
      assert.equal((await push(modChan, 'shout', { body: 'm2' })).status, 'ok');
      // Moderators cannot restrict each other; the owner can.
      assert.equal(
        code(await push(modChan, 'moderate', { action: 'ban', userId: mod.id })),
        'CHAT_TARGET_PROTECTED',
      );
      assert.equal((await push(owner, 'moderate', { action: 'slow', seconds: 0 })).status, 'ok');
      assert.equal(
        (await push(owner, 'moderate', { action: 'followers_only', enabled: true })).status,
        'ok',
      );

      // The log, for moderators only.
      const logUrl = `${replica.httpUrl}/api/v1/chat/${alice.username}/moderation-log`;
      const res = await fetch(logUrl, {
        headers: clientHeaders(
          { id: alice.id, username: alice.username, roles: ['user'] },
          d.secret,
        ),
      });
      assert.equal(res.status, 200);
      const page = (await res.json()) as ModerationLogPage;
      assert.deepEqual(
        page.items.map((e) => e.action),
        ['followers_only', 'slow', 'slow', 'unban', 'ban', 'timeout', 'delete'],
      );
      assert.equal(page.items.find((e) => e.action === 'ban')!.targetUserId, bob.id);
      const asBob = await fetch(logUrl, {
        headers: clientHeaders({ id: bob.id, username: bob.username, roles: ['user'] }, d.secret),
      });
      assert.equal(asBob.status, 403);
      assert.equal(((await asBob.json()) as { code: string }).code, 'CHAT_NOT_MODERATOR');
      const anon = await fetch(logUrl);
      assert.equal(anon.status, 401);
      const none = await fetch(`${replica.httpUrl}/api/v1/chat/no_such_room/moderation-log`, {
        headers: clientHeaders(
          { id: alice.id, username: alice.username, roles: ['user'] },
          d.secret,
        ),
      });
      assert.equal(((await none.json()) as { code: string }).code, 'CHAT_ROOM_NOT_FOUND');
      // An admin moderates anywhere.
      const admin = { ...newUser('admin'), roles: ['user', 'admin'] as ('user' | 'admin')[] };
      await register(d, admin);
      const ac = connect(replica, d.secret, admin).channel(room);
      assert.equal(((await join(ac)).response as unknown as JoinReply).moderator, true);
    });
  });

  describe(`chat socket lifecycle (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    const owner = newUser('own');
    before(async () => {
      d = await variant.open();
    });
    after(async () => {
      disconnectAll();
      await d.cleanup();
    });

    test('a socket that misses heartbeats is closed', async () => {
      const replica = await startReplica(d, { CHAT_HEARTBEAT_TIMEOUT_MS: '300' });
      try {
        const ws = await rawSocket(replica, d.secret, null);
        const code = await closed(ws);
        assert.equal(code, 1001);
      } finally {
        await replica.close();
      }
    });

    test('a client that stops reading is disconnected once its backlog passes the bound', async () => {
      const replica = await startReplica(d, {
        CHAT_MAX_BUFFERED_BYTES: String(64 * 1024),
        CHAT_RATE_LIMIT_MODERATOR: '100000',
      });
      try {
        await register(d, owner);
        const room = `room:${owner.username}`;
        const c = connect(replica, d.secret, owner).channel(room);
        await join(c);
        let firstId = '';
        const acks: Promise<unknown>[] = [];
        for (let i = 0; i < 500; i++) {
          acks.push(
            push(c, 'shout', { body: `${i} ${'y'.repeat(400)}` }).then((r) => {
              if (i === 0) firstId = r.response.id as string;
            }),
          );
        }
        await Promise.all(acks);
        const ws = await rawSocket(replica, d.secret, null);
        const tcp = (ws as unknown as { _socket: TcpSocket })._socket;
        tcp.pause();
        // Each join reply carries the history (tens to hundreds of KB); 300 of
        // them are far more than the kernel's socket buffers can hide.
        const joins = 300;
        for (let i = 0; i < joins; i++) {
          ws.send(
            JSON.stringify([String(i), String(i), room, 'phx_join', { last_seen_id: firstId }]),
          );
        }
        let replies = 0;
        // Only join replies count: room broadcasts may reach the socket too.
        ws.on('message', (m: Buffer) => {
          if (m.includes('"phx_reply"')) replies++;
        });
        const done = closed(ws);
        // Long enough for the server to build replies past the kernel's buffers
        // and its bound even when each join's history read is slow (a busy database).
        await new Promise((r) => setTimeout(r, 3000));
        tcp.resume();
        await done;
        assert.ok(replies < joins, `got all ${replies} replies: never cut off`);
        // The server still answers a well-behaved client.
        const ok = await join(connect(replica, d.secret, null).channel(room));
        assert.equal(ok.status, 'ok');
      } finally {
        await replica.close();
      }
    });

    test('shutdown drains accepted messages, then closes sockets with 1012', async () => {
      const replica = await startReplica(d);
      const ws = await rawSocket(replica, d.secret, null);
      const done = closed(ws);
      await replica.close();
      assert.equal(await done, 1012);
    });
  });
}
