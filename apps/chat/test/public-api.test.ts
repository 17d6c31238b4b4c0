import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Channel } from 'phoenix';
import type {
  ChatMessage,
  EventOf,
  JoinReply,
  ModerationLogPage,
  Problem,
  RoomSettings,
  UserRestricted,
} from '@neon/contracts';
import { appHeaders, clientHeaders, uuidv7 } from '@neon/kit';
import { waitFor } from '@neon/testing';
import {
  collect,
  connect,
  disconnectAll,
  engineVariants,
  join,
  newUser,
  push,
  register,
  startReplica,
  type Deployment,
  type Replica,
  type TestUser,
} from './helpers.js';

// `/public/v1` chat and moderation: an application acting for a user sends and
// moderates as that user would over the socket, under the same rules, and the
// room's sockets see the same effects.

const WRITE = 'user:write:chat';
const MODERATE = 'moderator:manage:chat';
/** A small budget, so the rate limit is reached in a few messages (written out, not read from the code). */
const RATE_LIMIT = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

for (const variant of engineVariants()) {
  describe(`chat public API (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    // Calls go to replica A; in the distributed shape most sockets sit on replica B, so what
    // they see crossed the fan-out. Embedded, the process is the only replica.
    let a: Replica;
    let b: Replica;
    const shared = variant.name !== 'embedded';
    const owner = newUser('pown');
    const mod = newUser('pmod');
    const mod2 = newUser('pmod2');
    const admin: TestUser = { ...newUser('padm'), roles: ['user', 'admin'] };
    const bob = newUser('pbob');
    const carol = newUser('pcar');
    const dave = newUser('pdav');
    const erin = newUser('peri');
    const frank = newUser('pfra');
    const grace = newUser('pgra');
    const topic = `room:${owner.username}`;
    const settings = {
      CHAT_FLUSH_MS: '20',
      CHAT_RATE_LIMIT: String(RATE_LIMIT),
      CHAT_RATE_LIMIT_MODERATOR: '100000',
      CHAT_HEARTBEAT_TIMEOUT_MS: '60000',
    };

    before(async () => {
      d = await variant.open();
      a = await startReplica(d, settings);
      b = shared ? await startReplica(d, settings) : a;
      await register(d, owner, mod, mod2, admin, bob, carol, dave, erin, frank, grace);
      for (const m of [mod, mod2]) {
        await d.bus.publish('channels.role.granted.v1', {
          channel: owner.username,
          userId: m.id,
          username: m.username,
          role: 'moderator',
        });
      }
      for (const r of new Set([a, b])) {
        for (const m of [mod, mod2]) {
          await waitFor(
            async () => {
              const ch = connect(r, d.secret, m).channel(topic);
              const moderator = ((await join(ch)).response as unknown as JoinReply).moderator;
              ch.leave();
              return moderator;
            },
            { what: `${m.username} to moderate` },
          );
        }
      }
    });

    after(async () => {
      disconnectAll();
      await a.close();
      if (shared) await b.close();
      await d.cleanup();
    });

    /** What the gateway passes on for a user token of `user` carrying `scopes`. */
    const userToken = (user: TestUser, scopes: string[] = [WRITE, MODERATE]) =>
      appHeaders(
        {
          clientId: 'app_test',
          scopes,
          user: { id: user.id, username: user.username, roles: user.roles ?? ['user'] },
        },
        d.secret,
      );

    async function call(
      method: 'POST' | 'DELETE' | 'GET',
      path: string,
      headers: Record<string, string>,
      body?: unknown,
    ): Promise<Answer> {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.headers = {
          ...headers,
          'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
        };
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const res = await fetch(`${a.httpUrl}${path}`, init);
      const text = await res.text();
      return {
        status: res.status,
        type: res.headers.get('content-type') ?? '',
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    }

    const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();
    const send = (user: TestUser, message: unknown, broadcasterId: unknown = owner.id) =>
      call('POST', '/public/v1/chat/messages', userToken(user), { broadcasterId, message });
    const remove = (user: TestUser, messageId: string, broadcasterId = owner.id) =>
      call(
        'DELETE',
        `/public/v1/moderation/chat?${qs({ broadcasterId, messageId })}`,
        userToken(user),
      );
    const ban = (user: TestUser, body: Record<string, unknown>) =>
      call('POST', '/public/v1/moderation/bans', userToken(user), {
        broadcasterId: owner.id,
        ...body,
      });
    const unban = (user: TestUser, userId: string, broadcasterId = owner.id) =>
      call(
        'DELETE',
        `/public/v1/moderation/bans?${qs({ broadcasterId, userId })}`,
        userToken(user),
      );

    /** A refusal: problem+json with this status and code. */
    function refused(answer: Answer, status: number, code: string, what?: string): void {
      assert.equal(answer.status, status, `${what ?? ''} ${JSON.stringify(answer.body)}`);
      assert.match(answer.type, /^application\/problem\+json/, what);
      const p = answer.body as unknown as Problem;
      assert.equal(p.code, code, what);
      assert.equal(p.status, status, what);
    }

    async function joined(replica: Replica, user: TestUser | null): Promise<Channel> {
      const ch = connect(replica, d.secret, user).channel(topic);
      assert.equal((await join(ch)).status, 'ok');
      return ch;
    }

    async function history(): Promise<ChatMessage[]> {
      const ch = connect(b, d.secret, null).channel(topic);
      const reply = (await join(ch)).response as unknown as JoinReply;
      ch.leave();
      return reply.history;
    }

    async function moderationLog(): Promise<ModerationLogPage['items']> {
      const res = await fetch(`${a.httpUrl}/api/v1/chat/${owner.username}/moderation-log`, {
        headers: clientHeaders(
          { id: owner.id, username: owner.username, roles: ['user'] },
          d.secret,
        ),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as ModerationLogPage).items;
    }

    test('a message sent through the API is a shout: cleaned, stored, on every replica, in history, on the bus', async () => {
      const viewer = await joined(b, null);
      const seen = collect<ChatMessage>(viewer, 'shout');
      const events: EventOf<'chat.message.created.v1'>[] = [];
      const sub = await d.bus.subscribe({
        types: ['chat.message.created.v1'],
        handler: async (e) => {
          events.push(e);
        },
      });
      try {
        const sent = await send(bob, '  hello\tfrom an app\u0007 ');
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        assert.match(sent.type, /^application\/json/);
        const data = sent.body.data as { id: string }[];
        assert.equal(data.length, 1);
        const id = data[0]!.id;
        assert.match(id, UUID);
        assert.deepEqual(Object.keys(data[0]!), ['id']);

        const m = await waitFor(() => seen.find((x) => x.id === id), { what: 'the broadcast' });
        assert.equal(m.body, 'hello from an app');
        assert.deepEqual(m.sender, {
          id: bob.id,
          username: bob.username,
          displayName: bob.displayName,
          badges: [],
        });
        assert.deepEqual((await history()).at(-1), m);
        const event = await waitFor(() => events.find((e) => e.id === id), {
          what: 'the message event',
        });
        assert.deepEqual(event.data, {
          id,
          channel: owner.username,
          senderId: bob.id,
          body: 'hello from an app',
          sentAt: m.sentAt,
        });

        // The owner's message carries the owner's badge, as over the socket.
        const fromOwner = await send(owner, 'from the owner');
        assert.equal(fromOwner.status, 201);
        const ownerId = (fromOwner.body.data as { id: string }[])[0]!.id;
        const om = await waitFor(() => seen.find((x) => x.id === ownerId), {
          what: 'the owner’s broadcast',
        });
        assert.deepEqual(om.sender.badges, ['owner']);
      } finally {
        await sub.close();
        viewer.leave();
      }
    });

    test('refusals carry the socket’s codes: banned, timed out, empty body, followers-only', async () => {
      const ownerCh = await joined(a, owner);
      const carolCh = await joined(b, carol);
      const daveCh = await joined(b, dave);
      // A notice reaches a socket on B after B has reloaded the room's rules.
      const notices = collect<UserRestricted>(carolCh, 'user_restricted');
      const bodyEmpty = await send(carol, ' \u0007\t ');
      refused(bodyEmpty, 400, 'CHAT_BODY_EMPTY', 'a body that cleans to nothing');
      assert.equal(
        (await push(carolCh, 'shout', { body: ' \u0007\t ' })).response.code,
        bodyEmpty.body.code,
      );

      // Banned over the socket, refused over the API, and the other way round.
      assert.equal(
        (await push(ownerCh, 'moderate', { action: 'ban', userId: carol.id })).status,
        'ok',
      );
      refused(await send(carol, 'let me in'), 403, 'CHAT_BANNED');
      await waitFor(() => notices.length === 1, { what: 'the ban notice' });
      assert.equal((await push(carolCh, 'shout', { body: 'x' })).response.code, 'CHAT_BANNED');
      assert.equal((await ban(owner, { userId: dave.id, duration: 600 })).status, 204);
      refused(await send(dave, 'let me in'), 403, 'CHAT_TIMED_OUT');
      await waitFor(() => notices.length === 2, { what: 'the timeout notice' });
      assert.equal((await push(daveCh, 'shout', { body: 'x' })).response.code, 'CHAT_TIMED_OUT');
      assert.equal((await unban(owner, carol.id)).status, 204);
      assert.equal((await unban(owner, dave.id)).status, 204);
      assert.equal((await send(carol, 'back')).status, 201);
      assert.equal((await send(dave, 'back')).status, 201);

      // Followers-only: carol follows nobody; the owner and moderators are exempt.
      const mode = { action: 'followers_only', enabled: true };
      assert.equal((await push(ownerCh, 'moderate', mode)).status, 'ok');
      refused(await send(carol, 'hello?'), 403, 'CHAT_FOLLOWERS_ONLY');
      assert.equal((await send(mod, 'moderators write')).status, 201);
      assert.equal(
        (await push(ownerCh, 'moderate', { action: 'followers_only', enabled: false })).status,
        'ok',
      );
      assert.equal((await send(carol, 'open again')).status, 201);
      for (const ch of [ownerCh, carolCh, daveCh]) ch.leave();
    });

    test('slow mode and the rate limit count API and socket messages together', async () => {
      const ownerCh = await joined(a, owner);
      const erinCh = await joined(b, erin);
      const seen = collect<RoomSettings>(erinCh, 'settings');
      assert.equal((await push(ownerCh, 'moderate', { action: 'slow', seconds: 60 })).status, 'ok');
      await waitFor(() => seen.at(-1)?.slowSeconds === 60, { what: 'slow mode on B' });
      assert.equal((await send(erin, 'one')).status, 201);
      refused(await send(erin, 'two'), 429, 'CHAT_SLOW_MODE');
      assert.equal(
        (await push(erinCh, 'shout', { body: 'three' })).response.code,
        'CHAT_SLOW_MODE',
      );
      // Moderators are exempt.
      assert.equal((await send(mod, 'm1')).status, 201);
      assert.equal((await send(mod, 'm2')).status, 201);
      assert.equal((await push(ownerCh, 'moderate', { action: 'slow', seconds: 0 })).status, 'ok');
      await waitFor(() => seen.at(-1)?.slowSeconds === 0, { what: 'slow mode off on B' });

      // One budget per user and room, whichever way the messages come.
      const frankCh = await joined(b, frank);
      for (let i = 0; i < RATE_LIMIT - 2; i++)
        assert.equal((await push(frankCh, 'shout', { body: `s${i}` })).status, 'ok');
      assert.equal((await send(frank, 'a1')).status, 201);
      assert.equal((await send(frank, 'a2')).status, 201);
      refused(await send(frank, 'a3'), 429, 'CHAT_RATE_LIMITED');
      assert.equal(
        (await push(frankCh, 'shout', { body: 's-last' })).response.code,
        'CHAT_RATE_LIMITED',
      );
      for (const ch of [ownerCh, erinCh, frankCh]) ch.leave();
    });

    test('the owner and a room moderator delete, ban, time out and unban; sockets see it; it is logged', async () => {
      const watcher = await joined(b, null);
      const deleted = collect<{ id: string }>(watcher, 'delete');
      const restricted = collect<UserRestricted>(watcher, 'user_restricted');
      const graceCh = await joined(b, grace);
      const logBefore = (await moderationLog()).length;

      for (const actor of [owner, mod]) {
        const sent = await push(graceCh, 'shout', { body: `remove me (${actor.username})` });
        const id = sent.response.id as string;
        assert.equal((await remove(actor, id)).status, 204, actor.username);
        await waitFor(() => deleted.some((x) => x.id === id), { what: 'the delete broadcast' });
        assert.equal(
          (await history()).some((m) => m.id === id),
          false,
        );
        // Gone already, or never a message: the socket's not-found code.
        refused(await remove(actor, id), 404, 'CHAT_MESSAGE_NOT_FOUND');
        refused(await remove(actor, 'not-a-message-id'), 404, 'CHAT_MESSAGE_NOT_FOUND');

        restricted.length = 0;
        assert.equal((await ban(actor, { userId: grace.id, reason: 'spam' })).status, 204);
        await waitFor(() => restricted.length === 1, { what: 'the ban notice' });
        assert.deepEqual(restricted[0], { userId: grace.id, until: null, lifted: false });
        assert.equal((await push(graceCh, 'shout', { body: 'x' })).response.code, 'CHAT_BANNED');

        const t0 = Date.now();
        assert.equal((await ban(actor, { userId: grace.id, duration: 120 })).status, 204);
        const t1 = Date.now();
        await waitFor(() => restricted.length === 2, { what: 'the timeout notice' });
        const until = Date.parse(restricted[1]!.until!);
        assert.ok(until >= t0 + 120_000 && until <= t1 + 120_000, 'the timeout ends in 120 s');
        assert.equal(restricted[1]!.lifted, false);
        assert.equal((await push(graceCh, 'shout', { body: 'x' })).response.code, 'CHAT_TIMED_OUT');

        assert.equal((await unban(actor, grace.id)).status, 204);
        await waitFor(() => restricted.length === 3, { what: 'the lifted notice' });
        assert.deepEqual(restricted[2], { userId: grace.id, until: null, lifted: true });
        assert.equal((await push(graceCh, 'shout', { body: 'free' })).status, 'ok');
      }

      // Lifting what is not in force succeeds, as the socket's unban does.
      assert.equal((await unban(owner, grace.id)).status, 204);

      const all = await moderationLog();
      const log = all.slice(0, all.length - logBefore);
      const mine = log
        .filter((e) => e.targetUserId === grace.id)
        .map((e) => `${e.actor.username} ${e.action}`)
        .reverse();
      assert.deepEqual(mine, [
        ...['delete', 'ban', 'timeout', 'unban'].map((x) => `${owner.username} ${x}`),
        ...['delete', 'ban', 'timeout', 'unban'].map((x) => `${mod.username} ${x}`),
        `${owner.username} unban`,
      ]);
      const timeout = log.find((e) => e.action === 'timeout' && e.actor.id === mod.id);
      assert.deepEqual(timeout?.details, { seconds: 120 });
      const banned = log.find((e) => e.action === 'ban' && e.actor.id === owner.id);
      assert.deepEqual(banned?.details, { reason: 'spam' });
      watcher.leave();
      graceCh.leave();
    });

    test('the socket’s protections hold: owner, self and fellow moderators; non-moderators and admins refused', async () => {
      const bobCh = await joined(b, bob);
      const sent = await push(bobCh, 'shout', { body: 'keep me' });
      const id = sent.response.id as string;

      refused(await ban(mod, { userId: owner.id }), 403, 'CHAT_TARGET_PROTECTED', 'the owner');
      refused(await ban(owner, { userId: owner.id }), 403, 'CHAT_TARGET_PROTECTED', 'self');
      refused(
        await ban(mod, { userId: mod.id, duration: 5 }),
        403,
        'CHAT_TARGET_PROTECTED',
        'self',
      );
      refused(await ban(mod, { userId: mod2.id }), 403, 'CHAT_TARGET_PROTECTED', 'a fellow mod');
      // The owner may restrict a moderator.
      assert.equal((await ban(owner, { userId: mod2.id, duration: 30 })).status, 204);
      assert.equal((await unban(owner, mod2.id)).status, 204);

      // A viewer, and a platform admin (the token carries the user role only), moderate nothing.
      for (const who of [bob, admin]) {
        refused(await remove(who, id), 403, 'CHAT_NOT_MODERATOR', who.username);
        refused(await ban(who, { userId: carol.id }), 403, 'CHAT_NOT_MODERATOR', who.username);
        refused(await unban(who, carol.id), 403, 'CHAT_NOT_MODERATOR', who.username);
      }
      assert.ok(
        (await history()).some((m) => m.id === id),
        'the message is still there',
      );
      // Over the socket the admin does moderate: the API's refusal is the token's doing.
      const adminCh = connect(a, d.secret, admin).channel(topic);
      assert.equal(((await join(adminCh)).response as unknown as JoinReply).moderator, true);
      adminCh.leave();
      bobCh.leave();
    });

    test('tokens: none, an app’s own, a missing scope, a session token', async () => {
      const ops: [string, string, string, unknown][] = [
        ['POST', '/public/v1/chat/messages', WRITE, { broadcasterId: owner.id, message: 'hi' }],
        [
          'DELETE',
          `/public/v1/moderation/chat?${qs({ broadcasterId: owner.id, messageId: uuidv7() })}`,
          MODERATE,
          undefined,
        ],
        [
          'POST',
          '/public/v1/moderation/bans',
          MODERATE,
          { broadcasterId: owner.id, userId: bob.id },
        ],
        [
          'DELETE',
          `/public/v1/moderation/bans?${qs({ broadcasterId: owner.id, userId: bob.id })}`,
          MODERATE,
          undefined,
        ],
      ];
      const other = (scope: string) => (scope === WRITE ? MODERATE : WRITE);
      for (const [method, path, scope, body] of ops) {
        const m = method as 'POST' | 'DELETE';
        const what = `${method} ${path.split('?')[0]}`;
        refused(await call(m, path, {}, body), 401, 'AUTH_REQUIRED', `${what}: no headers`);
        // Identity headers without the gateway's secret are anyone's.
        const forged = { ...userToken(owner), 'x-neon-internal': 'not-the-secret' };
        refused(await call(m, path, forged, body), 401, 'AUTH_REQUIRED', `${what}: forged`);
        // The owner's own session (the web app's token) is not an OAuth token.
        const session = clientHeaders(
          { id: owner.id, username: owner.username, roles: ['user'] },
          d.secret,
        );
        refused(await call(m, path, session, body), 401, 'AUTH_REQUIRED', `${what}: session`);
        const app = appHeaders({ clientId: 'app_test', scopes: [WRITE, MODERATE] }, d.secret);
        refused(await call(m, path, app, body), 403, 'OAUTH_USER_TOKEN_REQUIRED', `${what}: app`);
        refused(
          await call(m, path, userToken(owner, [other(scope), 'user:read:email']), body),
          403,
          'OAUTH_SCOPE_INSUFFICIENT',
          `${what}: scope`,
        );
        // The token is checked before the request is: a malformed one is refused as unauthorised.
        refused(
          await call(m, path.split('?')[0]!, {}, body === undefined ? undefined : { x: 1 }),
          401,
          'AUTH_REQUIRED',
          `${what}: no headers, malformed`,
        );
      }
      assert.equal(
        (await history()).some((m) => m.body === 'hi' && m.sender.id === owner.id),
        false,
        'nothing was sent',
      );
    });

    test('malformed requests are 400 problem+json naming the field', async () => {
      const post = (path: string, body: unknown) => call('POST', path, userToken(owner), body);
      const del = (path: string, q: Record<string, string>) =>
        call('DELETE', `${path}?${qs(q)}`, userToken(owner));
      const bad: [string, Promise<Answer>][] = [
        [
          'an extra field',
          post('/public/v1/chat/messages', {
            broadcasterId: owner.id,
            message: 'x',
            client_id: 'c',
          }),
        ],
        ['a message too long', send(owner, 'x'.repeat(501))],
        ['an empty message', send(owner, '')],
        ['a message not a string', send(owner, { text: 'x' })],
        ['no message', post('/public/v1/chat/messages', { broadcasterId: owner.id })],
        ['a broadcaster id not a uuid', send(owner, 'x', owner.username)],
        ['a broadcaster id not a string', send(owner, 'x', { id: owner.id })],
        ['no body', call('POST', '/public/v1/chat/messages', userToken(owner))],
        ['a body not an object', post('/public/v1/chat/messages', ['x'])],
        ['a ban of no one', ban(owner, {})],
        ['a ban with an extra field', ban(owner, { userId: bob.id, permanent: true })],
        ['a duration of zero', ban(owner, { userId: bob.id, duration: 0 })],
        ['a duration over two weeks', ban(owner, { userId: bob.id, duration: 1_209_601 })],
        ['a fractional duration', ban(owner, { userId: bob.id, duration: 1.5 })],
        ['a duration not a number', ban(owner, { userId: bob.id, duration: 'soon' })],
        ['a reason too long', ban(owner, { userId: bob.id, reason: 'r'.repeat(201) })],
        ['a user id not a uuid', ban(owner, { userId: bob.username })],
        [
          'a delete without a message',
          del('/public/v1/moderation/chat', { broadcasterId: owner.id }),
        ],
        [
          'a delete with a message id too long',
          del('/public/v1/moderation/chat', { broadcasterId: owner.id, messageId: 'm'.repeat(65) }),
        ],
        [
          'a delete with an extra parameter',
          del('/public/v1/moderation/chat', {
            broadcasterId: owner.id,
            messageId: uuidv7(),
            all: '1',
          }),
        ],
        ['an unban without a user', del('/public/v1/moderation/bans', { broadcasterId: owner.id })],
        [
          'an unban of a user id not a uuid',
          del('/public/v1/moderation/bans', { broadcasterId: owner.id, userId: 'bob' }),
        ],
      ];
      for (const [what, answer] of bad) {
        const got = await answer;
        refused(got, 400, 'VALIDATION_FAILED', what);
        const errors = (got.body as unknown as Problem).errors;
        assert.ok(errors && errors.length > 0 && errors[0]!.field, `${what}: names the field`);
      }
      // A body that is not JSON is not read at all.
      refused(await post('/public/v1/chat/messages', 'hello'), 415, 'UNSUPPORTED_MEDIA_TYPE');

      // The service is up and nothing was sent or changed.
      const health = await fetch(`${a.httpUrl}/healthz`);
      assert.equal(health.status, 200);
      const recent = await history();
      assert.equal(
        recent.some((m) => m.body.startsWith('xxxxxxxx') || m.body === 'x'),
        false,
      );
      assert.equal((await send(bob, 'still here')).status, 201);
    });

    test('an unknown broadcaster is 404 CHAT_ROOM_NOT_FOUND', async () => {
      const nobody = uuidv7();
      refused(await send(owner, 'anyone?', nobody), 404, 'CHAT_ROOM_NOT_FOUND', 'send');
      refused(await remove(owner, uuidv7(), nobody), 404, 'CHAT_ROOM_NOT_FOUND', 'delete');
      refused(
        await call('POST', '/public/v1/moderation/bans', userToken(owner), {
          broadcasterId: nobody,
          userId: bob.id,
        }),
        404,
        'CHAT_ROOM_NOT_FOUND',
        'ban',
      );
      refused(await unban(owner, bob.id, nobody), 404, 'CHAT_ROOM_NOT_FOUND', 'unban');
      // A user who exists but is another one's broadcaster id names their own room.
      assert.equal((await send(owner, 'in bob’s room', bob.id)).status, 201);
      const ch = connect(b, d.secret, null).channel(`room:${bob.username}`);
      const reply = (await join(ch)).response as unknown as JoinReply;
      assert.equal(reply.history.at(-1)?.body, 'in bob’s room');
      ch.leave();
    });
  });
}
