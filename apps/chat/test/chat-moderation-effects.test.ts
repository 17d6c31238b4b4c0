import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Channel } from 'phoenix';
import type {
  ChatMessage,
  JoinReply,
  ModerationLogPage,
  RoomSettings,
  UserRestricted,
} from '@neon/contracts';
import { clientHeaders } from '@neon/kit';
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

// What each moderation action does, as the room and the owner see it: who may
// restrict whom, the notice every member gets, the settings a new member
// joins with, and the log entry written for it.
for (const variant of engineVariants()) {
  describe(`chat moderation effects (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    let replica: Replica;
    const owner = newUser('owner');
    const mod = newUser('mod');
    const mod2 = newUser('mod2');
    const admin: TestUser = { ...newUser('admin'), roles: ['user', 'admin'] };
    const bob = newUser('bob');
    const carol = newUser('carol');
    const dave = newUser('dave');
    const room = () => `room:${owner.username}`;

    before(async () => {
      d = await variant.open();
      replica = await startReplica(d, {
        CHAT_HEARTBEAT_TIMEOUT_MS: '60000',
        CHAT_RATE_LIMIT_MODERATOR: '1000',
      });
      await register(d, owner, mod, mod2, admin, bob, carol, dave);
      for (const m of [mod, mod2]) {
        await d.bus.publish('channels.role.granted.v1', {
          channel: owner.username,
          userId: m.id,
          username: m.username,
          role: 'moderator',
        });
      }
      for (const m of [mod, mod2]) {
        await waitFor(
          async () => {
            const ch = connect(replica, d.secret, m).channel(room());
            const moderator = ((await join(ch)).response as unknown as JoinReply).moderator;
            ch.leave();
            return moderator;
          },
          { what: `${m.username} to moderate` },
        );
      }
    });

    after(async () => {
      disconnectAll();
      await replica.close();
      await d.cleanup();
    });

    async function joined(user: TestUser | null): Promise<Channel> {
      const ch = connect(replica, d.secret, user).channel(room());
      assert.equal((await join(ch)).status, 'ok');
      return ch;
    }

    async function moderate(ch: Channel, payload: object): Promise<string> {
      const reply = await push(ch, 'moderate', payload);
      return reply.status === 'ok' ? 'ok' : String(reply.response.code);
    }

    async function moderationLog(): Promise<ModerationLogPage['items']> {
      const res = await fetch(`${replica.httpUrl}/api/v1/chat/${owner.username}/moderation-log`, {
        headers: clientHeaders(
          { id: owner.id, username: owner.username, roles: ['user'] },
          d.secret,
        ),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as ModerationLogPage).items;
    }

    test('nobody restricts the owner or themselves; only the owner or an admin restricts a moderator', async () => {
      const [ownerCh, modCh, adminCh] = await Promise.all([
        joined(owner),
        joined(mod),
        joined(admin),
      ]);
      const protectedFrom = async (ch: Channel, userId: string) => [
        await moderate(ch, { action: 'timeout', userId, seconds: 60 }),
        await moderate(ch, { action: 'ban', userId }),
      ];
      const refused = ['CHAT_TARGET_PROTECTED', 'CHAT_TARGET_PROTECTED'];
      assert.deepEqual(await protectedFrom(modCh, owner.id), refused, 'a moderator, the owner');
      assert.deepEqual(await protectedFrom(adminCh, owner.id), refused, 'an admin, the owner');
      assert.deepEqual(await protectedFrom(ownerCh, owner.id), refused, 'the owner, themselves');
      assert.deepEqual(await protectedFrom(modCh, mod.id), refused, 'a moderator, themselves');
      assert.deepEqual(await protectedFrom(adminCh, admin.id), refused, 'an admin, themselves');
      assert.deepEqual(await protectedFrom(modCh, mod2.id), refused, 'a moderator, another');

      // The owner and an admin may; the restriction holds, and lifts.
      const mod2Ch = await joined(mod2);
      for (const [who, ch] of [
        ['the owner', ownerCh],
        ['an admin', adminCh],
      ] as const) {
        assert.equal(await moderate(ch, { action: 'ban', userId: mod2.id }), 'ok', who);
        assert.equal((await push(mod2Ch, 'shout', { body: 'hi' })).response.code, 'CHAT_BANNED');
        assert.equal(await moderate(ch, { action: 'unban', userId: mod2.id }), 'ok', who);
        assert.equal((await push(mod2Ch, 'shout', { body: 'back' })).status, 'ok', who);
      }
      // A moderator restricts a viewer.
      assert.equal(
        await moderate(modCh, { action: 'timeout', userId: dave.id, seconds: 60 }),
        'ok',
      );
      assert.equal(await moderate(modCh, { action: 'unban', userId: dave.id }), 'ok');
    });

    test('a timeout ends by itself; a ban does not', async () => {
      const ownerCh = await joined(owner);
      const daveCh = await joined(dave);
      assert.equal(
        await moderate(ownerCh, { action: 'timeout', userId: dave.id, seconds: 1 }),
        'ok',
      );
      await waitFor(async () => (await push(daveCh, 'shout', { body: 'later' })).status === 'ok', {
        what: 'the timeout to end',
      });
      assert.equal(await moderate(ownerCh, { action: 'ban', userId: dave.id }), 'ok');
      assert.equal((await push(daveCh, 'shout', { body: 'x' })).response.code, 'CHAT_BANNED');
      assert.equal(await moderate(ownerCh, { action: 'unban', userId: dave.id }), 'ok');
    });

    test('each action is announced to the room and logged with its actor, target and details', async () => {
      const ownerCh = await joined(owner);
      const modCh = await joined(mod);
      const bobCh = await joined(bob);
      const carolCh = await joined(carol);
      const watcher = await joined(null);
      const restricted = collect<UserRestricted>(watcher, 'user_restricted');
      const settings = collect<RoomSettings>(watcher, 'settings');
      const deleted = collect<{ id: string }>(watcher, 'delete');
      const shouts = collect<ChatMessage>(watcher, 'shout');
      const logBefore = (await moderationLog()).length;

      const sent = await push(carolCh, 'shout', { body: 'remove me' });
      assert.equal(sent.status, 'ok');
      const messageId = sent.response.id as string;

      const t0 = Date.now();
      assert.equal(
        await moderate(modCh, { action: 'timeout', userId: bob.id, seconds: 600, reason: 'calm' }),
        'ok',
      );
      const t1 = Date.now();
      assert.equal((await push(bobCh, 'shout', { body: 'hi' })).response.code, 'CHAT_TIMED_OUT');
      assert.equal(await moderate(ownerCh, { action: 'ban', userId: carol.id }), 'ok');
      assert.equal(await moderate(ownerCh, { action: 'unban', userId: carol.id }), 'ok');
      assert.equal(await moderate(ownerCh, { action: 'unban', userId: bob.id }), 'ok');
      assert.equal(await moderate(modCh, { action: 'delete', messageId }), 'ok');
      // Not a message id, or no such message: nothing happens.
      assert.equal(
        await moderate(modCh, { action: 'delete', messageId: 'not-a-uuid' }),
        'CHAT_MESSAGE_NOT_FOUND',
      );
      assert.equal(
        await moderate(modCh, {
          action: 'delete',
          messageId: '0190f000-0000-7000-8000-0000000000ff',
        }),
        'CHAT_MESSAGE_NOT_FOUND',
      );
      const steps: [object, RoomSettings][] = [
        [
          { action: 'slow', seconds: 10 },
          {
            slowSeconds: 10,
            followersOnly: false,
            followersOnlyMinutes: 0,
            subscribersOnly: false,
          },
        ],
        [
          { action: 'followers_only', enabled: true, minutes: 10 },
          {
            slowSeconds: 10,
            followersOnly: true,
            followersOnlyMinutes: 10,
            subscribersOnly: false,
          },
        ],
        [
          { action: 'subscribers_only', enabled: true },
          { slowSeconds: 10, followersOnly: true, followersOnlyMinutes: 10, subscribersOnly: true },
        ],
        [
          { action: 'followers_only', enabled: false },
          { slowSeconds: 10, followersOnly: false, followersOnlyMinutes: 0, subscribersOnly: true },
        ],
        [
          { action: 'slow', seconds: 0 },
          { slowSeconds: 0, followersOnly: false, followersOnlyMinutes: 0, subscribersOnly: true },
        ],
      ];
      for (const [action, expected] of steps) {
        assert.equal(await moderate(ownerCh, action), 'ok');
        const fresh = (await join(connect(replica, d.secret, null).channel(room())))
          .response as unknown as JoinReply;
        assert.deepEqual(fresh.settings, expected, JSON.stringify(action));
      }
      assert.equal(await moderate(ownerCh, { action: 'subscribers_only', enabled: false }), 'ok');

      // A room's broadcasts arrive in order: once this is in, all of the above is.
      const last = await push(ownerCh, 'shout', { body: 'done' });
      await waitFor(() => shouts.some((m) => m.id === last.response.id), {
        what: 'the last shout',
      });

      assert.equal(restricted.length, 4);
      const until = Date.parse(restricted[0]!.until!);
      assert.ok(until >= t0 + 600_000 && until <= t1 + 600_000, restricted[0]!.until!);
      assert.deepEqual(restricted, [
        { userId: bob.id, until: restricted[0]!.until, lifted: false },
        { userId: carol.id, until: null, lifted: false },
        { userId: carol.id, until: null, lifted: true },
        { userId: bob.id, until: null, lifted: true },
      ]);
      assert.deepEqual(deleted, [{ id: messageId }]);
      assert.deepEqual(settings, [
        ...steps.map(([, s]) => s),
        { slowSeconds: 0, followersOnly: false, followersOnlyMinutes: 0, subscribersOnly: false },
      ]);

      const log = (await moderationLog()).slice(0, -logBefore || undefined).reverse();
      const actor = (u: TestUser) => ({ id: u.id, username: u.username });
      assert.deepEqual(
        log.map((e) => ({
          action: e.action,
          actor: e.actor,
          targetUserId: e.targetUserId,
          targetMessageId: e.targetMessageId,
          details: e.details,
        })),
        [
          {
            action: 'timeout',
            actor: actor(mod),
            targetUserId: bob.id,
            targetMessageId: null,
            details: { seconds: 600, reason: 'calm' },
          },
          {
            action: 'ban',
            actor: actor(owner),
            targetUserId: carol.id,
            targetMessageId: null,
            details: {},
          },
          {
            action: 'unban',
            actor: actor(owner),
            targetUserId: carol.id,
            targetMessageId: null,
            details: {},
          },
          {
            action: 'unban',
            actor: actor(owner),
            targetUserId: bob.id,
            targetMessageId: null,
            details: {},
          },
          {
            action: 'delete',
            actor: actor(mod),
            targetUserId: carol.id,
            targetMessageId: messageId,
            details: {},
          },
          {
            action: 'slow',
            actor: actor(owner),
            targetUserId: null,
            targetMessageId: null,
            details: { seconds: 10 },
          },
          {
            action: 'followers_only',
            actor: actor(owner),
            targetUserId: null,
            targetMessageId: null,
            details: { enabled: true, minutes: 10 },
          },
          {
            action: 'subscribers_only',
            actor: actor(owner),
            targetUserId: null,
            targetMessageId: null,
            details: { enabled: true },
          },
          {
            action: 'followers_only',
            actor: actor(owner),
            targetUserId: null,
            targetMessageId: null,
            details: { enabled: false },
          },
          {
            action: 'slow',
            actor: actor(owner),
            targetUserId: null,
            targetMessageId: null,
            details: { seconds: 0 },
          },
          {
            action: 'subscribers_only',
            actor: actor(owner),
            targetUserId: null,
            targetMessageId: null,
            details: { enabled: false },
          },
        ],
      );
    });
  });
}
