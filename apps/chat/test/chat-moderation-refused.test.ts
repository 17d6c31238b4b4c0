import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Channel } from 'phoenix';
import type {
  ChatMessage,
  JoinReply,
  ModerationAction,
  ModerationLogPage,
  RoomSettings,
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

// Every moderation action, tried by everyone who may not moderate the room: a
// signed-in viewer, a moderator of another room, an anonymous socket. Each is
// refused with its code and changes nothing anyone can see.
for (const variant of engineVariants()) {
  describe(`chat moderation refused (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    let replica: Replica;
    const owner = newUser('owner');
    const viewer = newUser('viewer');
    const otherOwner = newUser('other');
    const otherMod = newUser('othermod');
    const victim = newUser('victim');
    const banned = newUser('banned');
    const room = () => `room:${owner.username}`;

    before(async () => {
      d = await variant.open();
      replica = await startReplica(d, { CHAT_HEARTBEAT_TIMEOUT_MS: '60000' });
      await register(d, owner, viewer, otherOwner, otherMod, victim, banned);
      // otherMod moderates otherOwner's room, not owner's.
      await d.bus.publish('channels.role.granted.v1', {
        channel: otherOwner.username,
        userId: otherMod.id,
        username: otherMod.username,
        role: 'moderator',
      });
      const s = connect(replica, d.secret, otherMod);
      await waitFor(
        async () => {
          const ch = s.channel(`room:${otherOwner.username}`);
          const moderator = ((await join(ch)).response as unknown as JoinReply).moderator;
          ch.leave();
          return moderator;
        },
        { what: 'the moderator role in the other room' },
      );
    });

    after(async () => {
      disconnectAll();
      await replica.close();
      await d.cleanup();
    });

    async function joined(user: TestUser | null, topic = room()): Promise<Channel> {
      const ch = connect(replica, d.secret, user).channel(topic);
      assert.equal((await join(ch)).status, 'ok');
      return ch;
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

    test('no action by a viewer, a moderator of another room or an anonymous socket takes effect', async () => {
      const ownerCh = await joined(owner);
      // The owner bans one user, so that an unban has something to lift.
      assert.equal(
        (await push(ownerCh, 'moderate', { action: 'ban', userId: banned.id })).status,
        'ok',
      );
      const victimCh = await joined(victim);
      const bannedCh = await joined(banned);
      const sent = await push(victimCh, 'shout', { body: 'keep me' });
      assert.equal(sent.status, 'ok');
      const messageId = sent.response.id as string;

      const watcher = await joined(null);
      const deletes = collect(watcher, 'delete');
      const restricted = collect(watcher, 'user_restricted');
      const settingsSeen = collect<RoomSettings>(watcher, 'settings');
      const shouts = collect<ChatMessage>(watcher, 'shout');
      const logBefore = await moderationLog();

      const actions: ModerationAction[] = [
        { action: 'delete', messageId },
        { action: 'timeout', userId: victim.id, seconds: 600, reason: 'no' },
        { action: 'ban', userId: victim.id, reason: 'no' },
        { action: 'unban', userId: banned.id },
        { action: 'slow', seconds: 30 },
        { action: 'followers_only', enabled: true },
        { action: 'subscribers_only', enabled: true },
      ];
      const actors = [
        { who: 'a signed-in viewer', channel: await joined(viewer), code: 'CHAT_NOT_MODERATOR' },
        {
          who: 'a moderator of another room',
          channel: await joined(otherMod),
          code: 'CHAT_NOT_MODERATOR',
        },
        { who: 'an anonymous socket', channel: await joined(null), code: 'CHAT_AUTH_REQUIRED' },
      ];
      for (const actor of actors) {
        for (const action of actions) {
          const reply = await push(actor.channel, 'moderate', action);
          assert.equal(reply.status, 'error', `${actor.who}: ${action.action} was accepted`);
          assert.equal(reply.response.code, actor.code, `${actor.who}: ${action.action}`);
        }
      }

      // The message is still there for anyone joining now.
      const fresh = (await join(connect(replica, d.secret, null).channel(room())))
        .response as unknown as JoinReply;
      assert.ok(
        fresh.history.some((m: ChatMessage) => m.id === messageId),
        'the message was deleted',
      );
      // No rule changed: the victim still chats, the banned user is still banned,
      // and the room's settings are the defaults.
      const still = await push(victimCh, 'shout', { body: 'still here' });
      assert.equal(still.status, 'ok');
      assert.equal(
        (await push(bannedCh, 'shout', { body: 'let me back' })).response.code,
        'CHAT_BANNED',
      );
      assert.deepEqual(fresh.settings, {
        slowSeconds: 0,
        followersOnly: false,
        followersOnlyMinutes: 0,
        subscribersOnly: false,
      });
      // Nobody was told of a change (a room's broadcasts arrive in order, so
      // anything announced would be in before the victim's last message).
      await waitFor(() => shouts.some((m) => m.id === still.response.id), {
        what: 'the last message',
      });
      assert.deepEqual(deletes, []);
      assert.deepEqual(restricted, []);
      assert.deepEqual(settingsSeen, []);
      assert.deepEqual(await moderationLog(), logBefore);
    });

    test("a moderator's delete names only messages of the room it is sent to", async () => {
      const victimCh = await joined(victim);
      const sent = await push(victimCh, 'shout', { body: 'not yours to delete' });
      assert.equal(sent.status, 'ok');
      const messageId = sent.response.id as string;
      // otherOwner owns (moderates) their own room and names owner's message from there.
      const elsewhere = await joined(otherOwner, `room:${otherOwner.username}`);
      const reply = await push(elsewhere, 'moderate', { action: 'delete', messageId });
      assert.equal(reply.response.code, 'CHAT_MESSAGE_NOT_FOUND');
      const history = (
        (await join(connect(replica, d.secret, null).channel(room())))
          .response as unknown as JoinReply
      ).history;
      assert.ok(
        history.some((m) => m.id === messageId),
        'the message was deleted',
      );
    });
  });
}
