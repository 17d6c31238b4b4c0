import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { NotificationList, NotificationSettings, Problem, UnreadCount } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { newUser, variants, type Harness } from './harness.js';

for (const variant of variants()) {
  describe(`stored notifications on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await variant.open();
    });
    after(async () => {
      await h.close();
    });

    const req = (
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      client?: Client,
      payload?: object,
    ) =>
      h.app.server.inject({
        method,
        url,
        headers: client ? h.as(client) : {},
        ...(payload ? { payload } : {}),
      });
    const list = async (client: Client, query = ''): Promise<NotificationList> => {
      const res = await req('GET', `/api/v1/notifications${query}`, client);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<NotificationList>();
    };
    /** Waits until `client` has `n` notifications. */
    const has = (client: Client, n: number) =>
      waitFor(async () => {
        const l = await list(client, '?limit=50');
        return l.items.length === n && l;
      });
    /** Follows, then waits for notify to have seen the follow (a role grant after it lands). */
    const follow = async (follower: Client, channel: Client) => {
      await h.follow(follower, channel);
      await waitFor(async () => {
        const rows = await h.platform.db.query(
          `SELECT 1 FROM notify.follows WHERE channel_id = $1 AND user_id = $2`,
          [channel.id, follower.id],
        );
        return rows.length > 0;
      });
    };

    it('stores one went-live notification per follower, newest first, with the unread count', async () => {
      const streamer = newUser();
      const [b, c, stranger] = [newUser(), newUser(), newUser()];
      await follow(b, streamer);
      await follow(c, streamer);
      await h.goLive(streamer, { title: 'Speedrun night' });
      for (const u of [b, c]) {
        const l = await has(u, 1);
        assert.equal(l.unreadCount, 1);
        const [n] = l.items;
        assert.equal(n!.kind, 'went_live');
        assert.equal(n!.channel, streamer.username);
        assert.equal(n!.title, 'Speedrun night');
        assert.equal(n!.link, `/${streamer.username}`);
        assert.equal(n!.read, false);
      }
      const none = await list(stranger);
      assert.deepEqual([none.items.length, none.unreadCount], [0, 0]);
      assert.equal((await list(streamer)).items.length, 0);
    });

    it('a redelivered event or a second started event for the same broadcast adds nothing', async () => {
      const streamer = newUser();
      const fan = newUser();
      await follow(fan, streamer);
      const first = await h.goLive(streamer);
      await has(fan, 1);
      // The very event again (a redelivery), then another started event for the same broadcast.
      await h.goLive(streamer, { broadcastId: first.broadcastId, eventId: first.eventId });
      const again = await h.goLive(streamer, { broadcastId: first.broadcastId });
      await h.handled(again.eventId);
      assert.equal((await list(fan)).items.length, 1);
    });

    it('at most one went-live notification per channel per 10 minutes', async () => {
      const streamer = newUser();
      const fan = newUser();
      await follow(fan, streamer);
      const t0 = Date.now();
      await h.goLive(streamer, { at: new Date(t0), title: 'one' });
      await has(fan, 1);
      const soon = await h.goLive(streamer, { at: new Date(t0 + 9 * 60_000), title: 'two' });
      await h.handled(soon.eventId);
      assert.equal((await list(fan)).items.length, 1);
      await h.goLive(streamer, { at: new Date(t0 + 11 * 60_000), title: 'three' });
      const l = await has(fan, 2);
      assert.deepEqual(
        l.items.map((n) => n.title),
        ['three', 'one'],
      );
    });

    it('an unfollowed channel notifies no more', async () => {
      const streamer = newUser();
      const fan = newUser();
      await follow(fan, streamer);
      await h.unfollow(fan, streamer);
      await waitFor(
        async () =>
          (await h.platform.db.query(`SELECT 1 FROM notify.follows WHERE user_id = $1`, [fan.id]))
            .length === 0,
      );
      const e = await h.goLive(streamer);
      await h.handled(e.eventId);
      assert.equal((await list(fan)).items.length, 0);
    });

    it('a granted role is a notification', async () => {
      const owner = newUser();
      const mod = newUser();
      await h.bus.publish('channels.role.granted.v1', {
        channel: owner.username,
        userId: mod.id,
        username: mod.username,
        role: 'moderator',
      });
      const [n] = (await has(mod, 1)).items;
      assert.equal(n!.kind, 'role_granted');
      assert.equal(n!.role, 'moderator');
      assert.equal(n!.channel, owner.username);
    });

    it('pages with a cursor and marks read by id (own only) or all', async () => {
      const fan = newUser();
      const other = newUser();
      const streamers = [newUser(), newUser(), newUser()];
      for (const s of streamers) await follow(fan, s);
      await follow(other, streamers[0]!);
      for (const s of streamers) await h.goLive(s);
      await has(fan, 3);
      await has(other, 1);

      const page1 = await list(fan, '?limit=2');
      assert.equal(page1.items.length, 2);
      assert.ok(page1.nextCursor);
      const page2 = await list(fan, `?limit=2&cursor=${page1.nextCursor}`);
      assert.equal(page2.items.length, 1);
      assert.equal(page2.nextCursor, null);
      const ids = [...page1.items, ...page2.items].map((n) => BigInt(n.id));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => (a > b ? -1 : 1)),
        'newest first',
      );

      const othersId = (await list(other)).items[0]!.id;
      let res = await req('POST', '/api/v1/notifications/read', fan, {
        ids: [page1.items[0]!.id, othersId],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<UnreadCount>().unreadCount, 2);
      assert.equal((await list(other)).unreadCount, 1, "another user's id is left alone");
      assert.equal((await list(fan)).items[0]!.read, true);

      res = await req('POST', '/api/v1/notifications/read', fan, { all: true });
      assert.equal(res.json<UnreadCount>().unreadCount, 0);
      assert.equal((await list(fan)).unreadCount, 0);
    });

    it('refuses the anonymous, a foreign cursor and bad ids', async () => {
      const u = newUser();
      let res = await req('GET', '/api/v1/notifications');
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<Problem>().code, 'AUTH_REQUIRED');
      res = await req('GET', '/api/v1/notifications?cursor=abc', u);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<Problem>().code, 'NOTIFY_CURSOR_INVALID');
      res = await req('POST', '/api/v1/notifications/read', u, { ids: ['x1'] });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<Problem>().code, 'VALIDATION_FAILED');
    });

    it('a muted channel and the global switch stop went-live notifications', async () => {
      const [loud, quiet] = [newUser(), newUser()];
      const fan = newUser();
      await follow(fan, loud);
      await follow(fan, quiet);

      let res = await req('PUT', `/api/v1/notifications/settings/mutes/${quiet.username}`, fan);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json<NotificationSettings>(), {
        wentLive: true,
        mutedChannels: [quiet.username],
      });
      const muted = await h.goLive(quiet);
      await h.handled(muted.eventId);
      await h.goLive(loud);
      assert.equal((await has(fan, 1)).items[0]!.channel, loud.username);

      res = await req('PATCH', '/api/v1/notifications/settings', fan, { wentLive: false });
      assert.equal(res.json<NotificationSettings>().wentLive, false);
      res = await req('DELETE', `/api/v1/notifications/settings/mutes/${quiet.username}`, fan);
      assert.deepEqual(res.json<NotificationSettings>().mutedChannels, []);
      const off = await h.goLive(quiet, { at: new Date(Date.now() + 11 * 60_000) });
      await h.handled(off.eventId);
      assert.equal((await list(fan)).items.length, 1);

      await req('PATCH', '/api/v1/notifications/settings', fan, { wentLive: true });
      await h.goLive(quiet, { at: new Date(Date.now() + 22 * 60_000) });
      await has(fan, 2);

      res = await req('PUT', '/api/v1/notifications/settings/mutes/nosuchchannel', fan);
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<Problem>().code, 'NOTIFY_CHANNEL_NOT_FOUND');
    });
  });
}
