import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrate, type Db, type SqlValue } from '@neon/db';
import { uuidv7 } from '@neon/kit';
import { openPglite } from '@neon/testing';
import { migrations } from '../src/db/migrations/index.js';
import { FollowBook } from '../src/rooms/follows.js';
import { RoomRegistry } from '../src/rooms/room.js';
import { SubscriberBook } from '../src/rooms/subscribers.js';
import { ChatRepository } from '../src/store/chat.repository.js';

// Each replica remembers what a room, a follow or a subscription looks like,
// reads it on first use and hears every change after. A change committed
// while that first read is in flight (the read saw the row before it) must
// not be lost: the remembered state would stay wrong until the process
// restarts (a moderator without powers, a follower refused in
// followers-only chat, a subscriber without the badge).

/** A gate the test opens: reads that pass through it have run, but answer only once it opens. */
function gate(): { wait: Promise<void>; open(): void; reached: Promise<void>; arrive(): void } {
  let open!: () => void;
  let arrive!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrive = r));
  return { wait, open, reached, arrive };
}

/** `db` whose next query runs at once but answers only when `g` opens. */
function heldOnce(db: Db, g: ReturnType<typeof gate>): Db {
  let held = false;
  const wrapped: Db = Object.create(db) as Db;
  wrapped.query = (async (sql: string, params?: readonly SqlValue[]) => {
    const rows = await db.query(sql, params);
    if (!held) {
      held = true;
      g.arrive();
      await g.wait;
    }
    return rows;
  }) as Db['query'];
  return wrapped;
}

/**
 * A room registry whose room reads run at once but answer only when the gate the test queued
 * for them opens (reads with no gate queued answer at once).
 */
function gatedRooms(db: Db) {
  const repo = new ChatRepository(db);
  const slow = Object.create(repo) as ChatRepository;
  const holds: ReturnType<typeof gate>[] = [];
  slow.loadRoom = async (channel) => {
    const record = await repo.loadRoom(channel);
    const g = holds.shift();
    if (g) {
      g.arrive();
      await g.wait;
    }
    return record;
  };
  return {
    repo,
    rooms: new RoomRegistry(slow),
    /** Holds the next room read at a new gate, returned. */
    holdNext: () => {
      const g = gate();
      holds.push(g);
      return g;
    },
  };
}

describe('chat caches: a change committed while the first read is in flight', () => {
  let db: Db;
  const owner = { id: uuidv7(), username: 'kilnroom', displayName: 'Kiln Room' };
  const viewer = uuidv7();

  before(async () => {
    db = await openPglite();
    await migrate(db, 'chat', migrations);
    await new ChatRepository(db).upsertUser(db, owner);
  });
  after(async () => {
    await db.close();
  });

  test('a moderator granted while the room loads has the powers once it is loaded', async () => {
    const g = gate();
    const repo = new ChatRepository(db);
    const slow = Object.create(repo) as ChatRepository;
    let held = false;
    slow.loadRoom = async (channel) => {
      const record = await repo.loadRoom(channel);
      if (held) return record;
      held = true;
      g.arrive();
      await g.wait;
      return record;
    };
    const rooms = new RoomRegistry(slow);
    const loading = rooms.get(owner.username);
    await g.reached;
    // What the roles projection does: commit, then reload the room.
    await repo.setRole(db, owner.username, viewer, 'moderator', true);
    const reloaded = rooms.reload(owner.username);
    g.open();
    await Promise.all([loading, reloaded]);
    const room = await rooms.get(owner.username);
    assert.ok(room?.moderators.has(viewer), 'the grant made during the load is in force');
  });

  test('rules a moderator sets while a re-read is in flight are not put back by it', async () => {
    const { repo, rooms, holdNext } = gatedRooms(db);
    const room = await rooms.get(owner.username);
    assert.ok(room);
    // A channels event re-reads the room; its read sees the rules before the moderator's change.
    const g = holdNext();
    const reread = rooms.reload(owner.username);
    await g.reached;
    // What moderation does: commit the rules, set them on the room, say it changed them here.
    const settings = { ...room.settings, followersOnly: true, followersOnlyMinutes: 0 };
    await repo.saveSettings(db, owner.username, settings);
    room.settings = settings;
    const after = rooms.changedHere(owner.username);
    g.open();
    await Promise.all([reread, after]);
    assert.equal(room.settings.followersOnly, true, 'followers-only stays on');
    await repo.saveSettings(db, owner.username, { ...settings, followersOnly: false });
  });

  test('a re-read that outlives a later one never applies, whatever re-reads follow', async () => {
    const { repo, rooms, holdNext } = gatedRooms(db);
    const room = await rooms.get(owner.username);
    assert.ok(room);
    const stale = holdNext();
    const first = rooms.reload(owner.username);
    await stale.reached;
    await repo.setRole(db, owner.username, viewer, 'vip', true);
    await rooms.reload(owner.username);
    assert.ok(room.vips.has(viewer));
    // A third re-read is in flight when the first, stale one answers.
    const third = holdNext();
    const last = rooms.reload(owner.username);
    await third.reached;
    stale.open();
    await first;
    assert.ok(room.vips.has(viewer), 'the stale read did not take the VIP away');
    third.open();
    await last;
    await repo.setRole(db, owner.username, viewer, 'vip', false);
  });

  test('a follow committed while its first lookup reads is what the lookup remembers', async () => {
    const g = gate();
    const book = new FollowBook(heldOnce(db, g));
    const lookup = book.lookup(owner.username, viewer);
    await g.reached;
    const at = Date.now();
    await db.query(`INSERT INTO chat.follows (channel, user_id, followed_at) VALUES ($1, $2, $3)`, [
      owner.username,
      viewer,
      new Date(at),
    ]);
    book.changed(owner.username, viewer, at);
    g.open();
    assert.equal(await lookup, at);
    assert.equal(book.cached(owner.username, viewer), at);
  });

  test('a subscription activated while its first lookup reads gives the badge', async () => {
    const g = gate();
    const book = new SubscriberBook(heldOnce(db, g));
    const lookup = book.months(owner.username, viewer);
    await g.reached;
    const event = {
      subscriptionId: `sub_${uuidv7()}`,
      userId: viewer,
      username: 'viewer',
      channel: owner.username,
      channelId: owner.id,
      tier: 'tier1' as const,
      status: 'active' as const,
      entitled: true,
      months: 1,
      currentPeriodEnd: null,
      cancelAtPeriodEnd: false,
      version: 1,
    };
    await db.query(
      `INSERT INTO chat.subscriptions (subscription_id, channel, user_id, entitled, months, version)
       VALUES ($1, $2, $3, true, 1, 1)`,
      [event.subscriptionId, owner.username, viewer],
    );
    book.heard(event);
    g.open();
    assert.equal(await lookup, 1);
    assert.equal(await book.months(owner.username, viewer), 1);
  });
});
