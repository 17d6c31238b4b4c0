import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '@neon/kit';
import type { RoomRecord } from '../store/chat.repository.js';
import { Room } from './room.js';

// Who a room treats as its owner, a moderator or a VIP, which badges a
// message carries, and whether a ban or a timeout is in force at a moment:
// the rules every join, shout and moderation action asks.

const OWNER = 'owner-id';
const MOD = 'mod-id';
const VIP = 'vip-id';

const record = (o: Partial<RoomRecord> = {}): RoomRecord => ({
  owner: { id: OWNER, username: 'alice', displayName: 'Alice' },
  settings: {
    slowSeconds: 0,
    followersOnly: false,
    followersOnlyMinutes: 0,
    subscribersOnly: false,
  },
  roles: [
    { userId: MOD, role: 'moderator' },
    { userId: VIP, role: 'vip' },
  ],
  bans: [],
  ...o,
});

const client = (id: string, roles: Client['roles'] = ['user']): Client => ({
  id,
  username: id,
  roles,
});

test('the topic, owner and settings come from the record', () => {
  const room = new Room('alice', record());
  assert.equal(room.topic, 'room:alice');
  assert.equal(room.owner.username, 'alice');
  assert.equal(room.isOwner(OWNER), true);
  assert.equal(room.isOwner(MOD), false);
});

test('moderators: the owner, a room moderator, a platform admin; nobody else, no one signed out', () => {
  const room = new Room('alice', record());
  assert.equal(room.isModerator(client(OWNER)), true);
  assert.equal(room.isModerator(client(MOD)), true);
  assert.equal(room.isModerator(client('admin-id', ['user', 'admin'])), true);
  assert.equal(room.isModerator(client(VIP)), false);
  assert.equal(room.isModerator(client('viewer-id')), false);
  assert.equal(room.isModerator(null), false);
});

test('badges in order: owner, moderator, vip, admin', () => {
  const room = new Room(
    'alice',
    record({
      roles: [
        { userId: OWNER, role: 'moderator' },
        { userId: OWNER, role: 'vip' },
        { userId: MOD, role: 'moderator' },
        { userId: VIP, role: 'vip' },
      ],
    }),
  );
  assert.deepEqual(room.badges(client(OWNER, ['user', 'admin'])), [
    'owner',
    'moderator',
    'vip',
    'admin',
  ]);
  assert.deepEqual(room.badges(client(MOD)), ['moderator']);
  assert.deepEqual(room.badges(client(VIP)), ['vip']);
  assert.deepEqual(room.badges(client('x', ['user', 'admin'])), ['admin']);
  assert.deepEqual(room.badges(client('x')), []);
});

test('a ban holds for ever; a timeout until its end, and is then forgotten', () => {
  const now = 1_000_000;
  const room = new Room(
    'alice',
    record({
      bans: [
        { userId: 'banned', until: null },
        { userId: 'timed', until: now + 1 },
        { userId: 'ending', until: now },
      ],
    }),
  );
  assert.equal(room.restriction('banned', now), 'banned');
  assert.equal(room.restriction('banned', now + 10 ** 9), 'banned');
  assert.equal(room.restriction('timed', now), 'timed_out');
  assert.equal(room.restriction('ending', now), null);
  assert.equal(room.bans.has('ending'), false);
  assert.equal(room.restriction('timed', now + 1), null);
  assert.equal(room.bans.has('timed'), false);
  assert.equal(room.restriction('nobody', now), null);
  assert.deepEqual([...room.bans.keys()], ['banned']);
});

test('a new record replaces the roles and bans: nothing of the old one lingers', () => {
  const room = new Room('alice', record({ bans: [{ userId: 'banned', until: null }] }));
  room.apply(
    record({
      owner: { id: 'new-owner', username: 'alice', displayName: 'Alice' },
      settings: {
        slowSeconds: 5,
        followersOnly: true,
        followersOnlyMinutes: 10,
        subscribersOnly: true,
      },
      roles: [{ userId: VIP, role: 'moderator' }],
      bans: [],
    }),
  );
  assert.equal(room.isOwner(OWNER), false);
  assert.equal(room.isOwner('new-owner'), true);
  assert.equal(room.settings.slowSeconds, 5);
  assert.deepEqual([...room.moderators], [VIP]);
  assert.deepEqual([...room.vips], []);
  assert.equal(room.isModerator(client(MOD)), false);
  assert.equal(room.restriction('banned', 0), null);
});
