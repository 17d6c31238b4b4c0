import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Notification, Problem } from '@neon/contracts';
import { loadConfig, type Client } from '@neon/kit';
import type { Service } from '@neon/platform';
import { waitFor } from '@neon/testing';
import { buildApp } from '../src/app.js';
import { notifySpec } from '../src/config.js';
import { newUser, variants, type Harness } from './harness.js';
import { openSse, type SseConnection } from './sse-client.js';

const ENV = {
  NOTIFY_HEARTBEAT_SECONDS: '1',
  NOTIFY_STREAMS_PER_USER: '2',
  NOTIFY_VIEWERS_INTERVAL_SECONDS: '5',
};

for (const variant of variants()) {
  describe(`notification streams on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let base: string;
    const open: SseConnection[] = [];
    before(async () => {
      h = await variant.open({ env: ENV });
      base = await listen(h.app);
    });
    after(async () => {
      for (const c of open) c.close();
      await h.close();
    });

    async function listen(app: Service): Promise<string> {
      await app.server.listen({ port: 0, host: '127.0.0.1' });
      return `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
    }
    async function sse(url: string, client?: Client, headers: Record<string, string> = {}) {
      const c = await openSse(url, { ...(client ? h.as(client) : {}), ...headers });
      open.push(c);
      return c;
    }
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
    const notification = (f: { data?: string }) => JSON.parse(f.data!) as Notification;
    /** A stream refused for the per-user cap. */
    async function refused(where: string, u: Client) {
      const c = await sse(`${where}/api/v1/notifications/stream`, u);
      await waitFor(() => c.ended);
      assert.equal(c.status, 429);
      assert.equal((JSON.parse(c.body) as Problem).code, 'NOTIFY_TOO_MANY_STREAMS');
    }
    /** A stream let in once a place frees up (the release may take a moment). */
    async function admittedAgain(where: string, u: Client) {
      const d = await waitFor(async () => {
        const x = await sse(`${where}/api/v1/notifications/stream`, u);
        if (x.status === 200) return x;
        x.close();
        return false;
      });
      d.close();
    }

    it('pushes a went-live notification with an id, after the retry hint, and heartbeats', async () => {
      const streamer = newUser();
      const fan = newUser();
      await follow(fan, streamer);
      const s = await sse(`${base}/api/v1/notifications/stream`, fan);
      assert.equal(s.status, 200);
      assert.match(s.res.headers['content-type'] ?? '', /^text\/event-stream/);
      await s.next((f) => f.retry !== undefined);
      assert.equal(s.frames[0]!.retry, '3000');
      await h.goLive(streamer, { title: 'Hello' });
      const f = await s.next((x) => x.event === 'notification');
      assert.ok(f.id);
      const n = notification(f);
      assert.equal(n.id, f.id);
      assert.equal(n.channel, streamer.username);
      assert.equal(n.title, 'Hello');
      await s.next((x) => x.comment === 'hb', 'a heartbeat');
      s.close();
    });

    it('a reconnect with Last-Event-ID gets what it missed from storage, on another replica too', async () => {
      const [s1, s2, s3] = [newUser(), newUser(), newUser()];
      const fan = newUser();
      for (const s of [s1, s2, s3]) await follow(fan, s);
      const first = await sse(`${base}/api/v1/notifications/stream`, fan);
      await h.goLive(s1);
      const seen = await first.next((x) => x.event === 'notification');
      first.close();
      await h.goLive(s2);
      await h.goLive(s3);
      await waitFor(
        async () =>
          (
            await h.platform.db.query(`SELECT 1 FROM notify.notifications WHERE user_id = $1`, [
              fan.id,
            ])
          ).length === 3,
      );

      // A second replica on the same storage, as after a restart or a move.
      const replica = await buildApp(h.platform, loadConfig(notifySpec, ENV));
      await replica.server.ready();
      await replica.start?.();
      try {
        const other = await listen(replica);
        const resumed = await sse(`${other}/api/v1/notifications/stream`, fan, {
          'last-event-id': seen.id!,
        });
        await waitFor(
          () => resumed.frames.filter((x) => x.event === 'notification').length >= 2 && true,
        );
        const got = resumed.frames.filter((x) => x.event === 'notification').map(notification);
        assert.deepEqual(
          got.map((n) => n.channel),
          [s2.username, s3.username],
        );
        // And live ones after it, once each.
        const s4 = newUser();
        await follow(fan, s4);
        await h.goLive(s4);
        const live = await resumed.next(
          (x) => x.event === 'notification' && notification(x).channel === s4.username,
        );
        assert.ok(BigInt(live.id!) > BigInt(got[1]!.id));
        resumed.close();
      } finally {
        await replica.server.close();
        await replica.close();
      }
    });

    it('caps open streams per user, and refuses an anonymous stream without channels', async () => {
      const u = newUser();
      const a = await sse(`${base}/api/v1/notifications/stream`, u);
      const b = await sse(`${base}/api/v1/notifications/stream`, u);
      assert.deepEqual([a.status, b.status], [200, 200]);
      await refused(base, u);
      a.close();
      // Once one closes, a new one is let in.
      await admittedAgain(base, u);
      b.close();

      const anon = await sse(`${base}/api/v1/notifications/stream`);
      await waitFor(() => anon.ended);
      assert.equal(anon.status, 401);
    });

    // The embedded shape has one replica: only the distributed one can hold a cap across two.
    if (variant.name === 'PostgreSQL + NATS + Redis')
      it('with Redis the per-user cap holds across replicas, and a closed stream frees its place', async () => {
        const other = await buildApp(h.platform, loadConfig(notifySpec, ENV));
        await other.server.ready();
        await other.start?.();
        try {
          const url = await listen(other);
          const u = newUser();
          const a = await sse(`${base}/api/v1/notifications/stream`, u);
          const b = await sse(`${url}/api/v1/notifications/stream`, u);
          assert.deepEqual([a.status, b.status], [200, 200]);
          for (const where of [base, url]) await refused(where, u);
          b.close();
          await admittedAgain(base, u);
          a.close();
        } finally {
          await other.server.close();
          await other.close();
        }
      });

    it('anonymous streams get public live status and coalesced viewer counts', async () => {
      const streamer = newUser();
      const s = await sse(`${base}/api/v1/notifications/stream?channels=${streamer.username}`);
      assert.equal(s.status, 200);
      await s.next((f) => f.retry !== undefined);
      const { broadcastId } = await h.goLive(streamer, { title: 'Public' });
      const live = await s.next((f) => f.event === 'live');
      assert.deepEqual(JSON.parse(live.data!), {
        channel: streamer.username,
        live: true,
        broadcastId,
        title: 'Public',
      });
      assert.equal(live.id, undefined);
      for (const viewers of [1, 2, 3, 4])
        await h.bus.publish('live.viewers.updated.v1', {
          channel: streamer.username,
          broadcastId,
          viewers,
        });
      // The first goes out at once; the rest within the interval collapse into the latest.
      await s.next((f) => f.event === 'viewers' && JSON.parse(f.data!).viewers === 4, 'count 4');
      const counts = s.frames
        .filter((f) => f.event === 'viewers')
        .map((f) => (JSON.parse(f.data!) as { viewers: number }).viewers);
      assert.deepEqual(counts, [1, 4]);
      s.close();
    });
    /** What a stream for `channel` is told as it opens: the frames before its first heartbeat. */
    async function toldOnOpen(channel: string) {
      const c = await sse(`${base}/api/v1/notifications/stream?channels=${channel}`);
      try {
        const hb = await c.next((f) => f.comment === 'hb', 'a heartbeat');
        const before = c.frames.slice(0, c.frames.indexOf(hb));
        const data = (event: string) => before.find((f) => f.event === event)?.data;
        const live = data('live');
        const viewers = data('viewers');
        return {
          title: live ? (JSON.parse(live) as { title: string | null }).title : null,
          viewers: viewers ? (JSON.parse(viewers) as { viewers: number }).viewers : null,
        };
      } finally {
        c.close();
      }
    }

    it('a stream opened after the channel went live or its count moved is told both at once, and nothing once it ended', async () => {
      const streamer = newUser();
      // Nobody on this replica watches the channel while it goes live and its count moves.
      const { broadcastId } = await h.goLive(streamer, { title: 'Late' });
      await waitFor(async () => (await toldOnOpen(streamer.username)).title === 'Late', {
        what: 'the live status on open',
      });
      assert.equal(
        (await toldOnOpen(streamer.username)).viewers,
        null,
        'no count before one is heard',
      );
      for (const viewers of [1, 2])
        await h.bus.publish('live.viewers.updated.v1', {
          channel: streamer.username,
          broadcastId,
          viewers,
        });
      await waitFor(async () => (await toldOnOpen(streamer.username)).viewers === 2, {
        what: 'the latest count on open',
      });
      await h.bus.publish('live.stream.ended.v1', {
        broadcastId,
        channel: streamer.username,
        userId: streamer.id,
        startedAt: new Date().toISOString(),
        endedAt: new Date().toISOString(),
        durationSeconds: 1,
      });
      await waitFor(
        async () => {
          const told = await toldOnOpen(streamer.username);
          return told.title === null && told.viewers === null;
        },
        { what: 'nothing told once the broadcast ended' },
      );
    });

    it('a directory stream hears every channel start, retitle and end, but no viewer counts', async () => {
      const streamer = newUser();
      const watcher = await sse(
        `${base}/api/v1/notifications/stream?channels=${streamer.username}`,
      );
      const dir = await sse(`${base}/api/v1/notifications/stream?directory=true`);
      assert.equal(dir.status, 200);
      await dir.next((f) => f.retry !== undefined);
      const { broadcastId } = await h.goLive(streamer, { title: 'First' });
      const mine = (f: { event?: string; data?: string }) =>
        f.event === 'live' &&
        (JSON.parse(f.data!) as { channel: string }).channel === streamer.username;
      await dir.next(mine, 'went live');
      const retitled = {
        broadcastId,
        channel: streamer.username,
        userId: streamer.id,
        title: 'Second',
      };
      await h.bus.publish('live.stream.updated.v1', retitled);
      await h.bus.publish('live.viewers.updated.v1', {
        channel: streamer.username,
        broadcastId,
        viewers: 7,
      });
      await watcher.next((f) => f.event === 'viewers', 'viewers on the channel topic');
      await h.bus.publish('live.stream.ended.v1', {
        broadcastId,
        channel: streamer.username,
        userId: streamer.id,
        startedAt: new Date().toISOString(),
        endedAt: new Date().toISOString(),
        durationSeconds: 1,
      });
      await dir.next((f) => mine(f) && !JSON.parse(f.data!).live, 'ended');
      const statuses = dir.frames
        .filter(mine)
        .map((f) => JSON.parse(f.data!) as { live: boolean; title: string | null });
      assert.deepEqual(
        statuses.map((x) => [x.live, x.title]),
        [
          [true, 'First'],
          [true, 'Second'],
          [false, null],
        ],
      );
      assert.equal(dir.frames.filter((f) => f.event === 'viewers').length, 0);
      // The channel topic hears the retitle too.
      await watcher.next(
        (f) => f.event === 'live' && JSON.parse(f.data!).title === 'Second',
        'retitle',
      );
      dir.close();
      watcher.close();
    });

    it('a reader that does not keep up is cut off, not buffered without bound', async () => {
      const fan = newUser();
      // 3,000 stored notifications of about 4 kB each: far more than the socket buffers hold.
      await h.platform.db.query(
        `INSERT INTO notify.notifications (user_id, kind, source_key, channel, title)
         SELECT $1, 'went_live', 'bulk:' || g, 'somebody', repeat('x', 4000)
           FROM generate_series(1, 3000) g`,
        [fan.id],
      );
      const replica = await buildApp(
        h.platform,
        loadConfig(notifySpec, { ...ENV, NOTIFY_STREAM_BUFFER_BYTES: '65536' }),
      );
      await replica.server.ready();
      await replica.start?.();
      try {
        const url = await listen(replica);
        const slow = await sse(`${url}/api/v1/notifications/stream`, fan, { 'last-event-id': '1' });
        slow.res.pause();
        const connections = () =>
          new Promise<number>((r, j) =>
            replica.server.server.getConnections((e, n) => (e ? j(e) : r(n))),
          );
        await waitFor(async () => (await connections()) === 0, { what: 'the stream cut off' });
        slow.res.resume();
        await waitFor(() => slow.ended, { what: 'the end of what was sent' });
        const got = slow.frames.filter((f) => f.event === 'notification').length;
        assert.ok(got < 3000, `cut off after ${got} notifications`);
      } finally {
        await replica.server.close();
        await replica.close();
      }
    });
  });
}
