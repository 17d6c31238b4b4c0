import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Bus } from '@neon/bus';
import type { Client } from '@neon/kit';
import { uuidv7 } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { newUser, variants, type Harness } from './harness.js';
import { openSse, type SseConnection } from './sse-client.js';

/*
 * A channel with more followers than one page: the went-live fan-out is cut
 * into pages by follower id, queued in notify's outbox and written by
 * whichever replica takes each page; every follower gets exactly one
 * notification and the connected ones get the push. A suspended channel
 * owner notifies no one.
 */
for (const variant of variants()) {
  describe(`went-live fan-out in pages on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let base: string;
    const open: SseConnection[] = [];
    // A second service whose fan-out pages wait until the test lets them through.
    let h2: Harness;
    let base2: string;
    let releasePages: () => void = () => undefined;
    const pagesReleased = new Promise<void>((resolve) => (releasePages = resolve));
    before(async () => {
      h = await variant.open({ env: { NOTIFY_FANOUT_PAGE_SIZE: '2' } });
      await h.app.server.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
      h2 = await variant.open({
        env: { NOTIFY_FANOUT_PAGE_SIZE: '2' },
        serviceBus: (bus): Bus => ({
          ...bus,
          kind: bus.kind,
          publish: bus.publish.bind(bus),
          ping: bus.ping.bind(bus),
          pending: bus.pending.bind(bus),
          close: bus.close.bind(bus),
          subscribe: (o) =>
            bus.subscribe(
              o.group === 'notify.fanout'
                ? {
                    ...o,
                    handler: async (event, ctx) => {
                      await pagesReleased;
                      await o.handler(event, ctx);
                    },
                  }
                : o,
            ),
        }),
      });
      await h2.app.server.listen({ port: 0, host: '127.0.0.1' });
      base2 = `http://127.0.0.1:${(h2.app.server.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      for (const c of open) c.close();
      releasePages();
      await h.close();
      await h2.close();
    });

    const follow = async (follower: Client, channel: Client) => {
      await h.follow(follower, channel);
      await waitFor(
        async () =>
          (
            await h.platform.db.query(
              `SELECT 1 FROM notify.follows WHERE channel_id = $1 AND user_id = $2`,
              [channel.id, follower.id],
            )
          ).length > 0,
      );
    };
    const stored2 = async (sourceKey: string) =>
      (
        await h2.platform.db.query<{ user_id: string }>(
          `SELECT user_id FROM notify.notifications WHERE source_key = $1 ORDER BY user_id`,
          [sourceKey],
        )
      ).map((r) => r.user_id);
    const stored = async (sourceKey: string) =>
      (
        await h.platform.db.query<{ user_id: string }>(
          `SELECT user_id FROM notify.notifications WHERE source_key = $1 ORDER BY user_id`,
          [sourceKey],
        )
      ).map((r) => r.user_id);

    it('every follower gets one notification, pushed to those connected, and a page written again adds nothing', async () => {
      const streamer = newUser();
      const fans = Array.from({ length: 7 }, () => newUser());
      for (const f of fans) await follow(f, streamer);
      const muted = fans[3]!;
      const mute = await h.app.server.inject({
        method: 'PUT',
        url: `/api/v1/notifications/settings/mutes/${streamer.username}`,
        headers: h.as(muted),
      });
      assert.equal(mute.statusCode, 200, mute.body);
      const listening = await openSse(`${base}/api/v1/notifications/stream`, h.as(fans[6]!));
      open.push(listening);
      await listening.next((f) => f.retry !== undefined);

      const { broadcastId } = await h.goLive(streamer, { title: 'Big night' });
      const key = `went_live:${broadcastId}`;
      const expected = fans
        .filter((f) => f !== muted)
        .map((f) => f.id)
        .sort();
      await waitFor(async () => (await stored(key)).length === expected.length, {
        what: 'every page written',
      });
      assert.deepEqual(await stored(key), expected);
      const pushed = await listening.next((f) => f.event === 'notification', 'the push');
      assert.equal(JSON.parse(pushed.data!).title, 'Big night');

      // A page delivered again (a redelivery under a new id, or overlapping) writes nothing twice.
      await h.bus.publish(
        'notify.fanout.page.v1',
        {
          sourceKey: key,
          channelId: streamer.id,
          channel: streamer.username,
          title: 'Big night',
          fromUserId: '',
          toUserId: null,
        },
        { id: uuidv7() },
      );
      const again = await h.bus.publish('live.stream.started.v1', {
        broadcastId,
        channel: streamer.username,
        userId: streamer.id,
        title: 'Big night',
        startedAt: new Date().toISOString(),
        renditions: [],
      });
      await h.handled(again.id);
      await waitFor(
        async () =>
          (
            await h.platform.db.query(`SELECT 1 FROM notify.outbox WHERE data->>'sourceKey' = $1`, [
              key,
            ])
          ).length === 0,
        { what: 'the outbox drained' },
      );
      assert.deepEqual(await stored(key), expected);
      assert.equal(
        listening.frames.filter((f) => f.event === 'notification').length,
        1,
        'pushed once',
      );
    });

    it('followers with a stream open are written and pushed before any page is taken', async () => {
      // The pages are held back, as when a replica is busy with a big channel's other pages.
      const held = h2;
      const streamer = newUser();
      const fans = Array.from({ length: 6 }, () => newUser());
      for (const f of fans) await held.follow(f, streamer);
      await waitFor(
        async () =>
          (
            await held.platform.db.query(`SELECT 1 FROM notify.follows WHERE channel_id = $1`, [
              streamer.id,
            ])
          ).length === fans.length,
        { what: 'the follows seen' },
      );
      const muted = fans[1]!;
      const mute = await held.app.server.inject({
        method: 'PUT',
        url: `/api/v1/notifications/settings/mutes/${streamer.username}`,
        headers: held.as(muted),
      });
      assert.equal(mute.statusCode, 200, mute.body);
      const watching = [fans[0]!, muted, fans[4]!];
      const streams = await Promise.all(
        watching.map((f) => openSse(`${base2}/api/v1/notifications/stream`, held.as(f))),
      );
      open.push(...streams);
      for (const s of streams) await s.next((f) => f.retry !== undefined);

      const { broadcastId } = await held.goLive(streamer, { title: 'Watchers first' });
      const key = `went_live:${broadcastId}`;
      for (const s of [streams[0]!, streams[2]!]) {
        const pushed = await s.next((f) => f.event === 'notification', 'the push');
        assert.equal(JSON.parse(pushed.data!).title, 'Watchers first');
      }
      const storedFirst = await stored2(key);
      assert.deepEqual(storedFirst, [fans[0]!.id, fans[4]!.id].sort(), 'only the watchers so far');

      releasePages();
      const everyone = fans
        .filter((f) => f !== muted)
        .map((f) => f.id)
        .sort();
      await waitFor(async () => (await stored2(key)).length === everyone.length, {
        what: 'the pages written',
      });
      assert.deepEqual(await stored2(key), everyone);
      // The pages' announcements reach the watchers again: still one push each, none for the muted.
      await waitFor(
        async () =>
          (
            await held.platform.db.query(
              `SELECT 1 FROM notify.outbox WHERE data->>'sourceKey' = $1`,
              [key],
            )
          ).length === 0,
        { what: 'the outbox drained' },
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        streams.map((s) => s.frames.filter((f) => f.event === 'notification').length),
        [1, 0, 1],
      );
    });

    it('a suspended channel owner notifies no one; after the suspension is lifted it does again', async () => {
      const streamer = newUser();
      const fans = [newUser(), newUser(), newUser()];
      for (const f of fans) await follow(f, streamer);
      const suspended = await h.bus.publish('identity.user.suspended.v1', {
        userId: streamer.id,
        username: streamer.username,
        suspendedAt: new Date().toISOString(),
      });
      await waitFor(
        async () =>
          (
            await h.platform.db.query(`SELECT 1 FROM notify.suspended WHERE user_id = $1`, [
              streamer.id,
            ])
          ).length > 0,
        { what: `suspension ${suspended.id} seen` },
      );
      const first = await h.goLive(streamer);
      await h.handled(first.eventId);
      assert.deepEqual(await stored(`went_live:${first.broadcastId}`), []);
      assert.equal(
        (await h.platform.db.query(`SELECT 1 FROM notify.outbox`)).length,
        0,
        'no pages queued',
      );

      await h.bus.publish('identity.user.unsuspended.v1', {
        userId: streamer.id,
        username: streamer.username,
      });
      await waitFor(
        async () =>
          (
            await h.platform.db.query(`SELECT 1 FROM notify.suspended WHERE user_id = $1`, [
              streamer.id,
            ])
          ).length === 0,
      );
      const second = await h.goLive(streamer);
      await waitFor(
        async () => (await stored(`went_live:${second.broadcastId}`)).length === fans.length,
        { what: 'the next broadcast notifies' },
      );
    });
  });
}
