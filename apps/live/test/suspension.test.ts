import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { StreamKeyResponse, StreamSettings, VideoList } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { publishStatus } from '@neon/rtmp/testing';
import { sleep, waitFor } from '@neon/testing';
import { ChannelRepository } from '../src/stream-keys/channel.repository.js';
import { encoder, exited, stop } from './encoder.js';
import { variants, type Harness } from './harness.js';

// An admin suspends a streamer (identity.user.suspended.v1): the stream key
// no longer broadcasts. Identity ends the account's sessions; live must end
// what the key is pushing now and refuse the next publish, or a suspended
// streamer would go on broadcasting with the encoder left running.
for (const variant of variants()) {
  describe(
    `a suspended streamer on ${variant.name}`,
    { skip: variant.skip, timeout: 120_000 },
    () => {
      async function streamKey(h: Harness, user: Client): Promise<string> {
        const res = await h.live.server.inject({
          method: 'GET',
          url: '/api/v1/me/stream-key',
          headers: h.as(user),
        });
        return res.json<StreamKeyResponse>().streamKey;
      }

      const publishReply = (h: Harness, key: string) => publishStatus(h.live.rtmpPort()!, key);

      const status = async (h: Harness, url: string) =>
        (await h.live.server.inject({ method: 'GET', url })).statusCode;

      const settings = async (h: Harness, user: Client) =>
        (
          await h.live.server.inject({
            method: 'GET',
            url: '/api/v1/me/stream',
            headers: h.as(user),
          })
        ).json<StreamSettings>();

      it('is cut off mid-broadcast, keeps the recording, and cannot publish until the suspension is lifted', async () => {
        const h = await variant.open({ RECONNECT_GRACE_SECONDS: '0' });
        const encoders: ChildProcess[] = [];
        try {
          const user = h.user();
          const key = await streamKey(h, user);
          const url = `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${key}`;
          const first = encoder(url);
          encoders.push(first);
          const master = `/hls/${user.username}/master.m3u8`;
          await waitFor(async () => (await status(h, master)) === 200, {
            timeoutMs: 30_000,
            intervalMs: 200,
            what: 'the broadcast to be live',
          });
          const { broadcastId } = await settings(h, user);

          const suspendedAt = new Date();
          const suspension = {
            userId: user.id,
            username: user.username,
            suspendedAt: suspendedAt.toISOString(),
          };
          await h.platform.bus.publish('identity.user.suspended.v1', suspension, {
            occurredAt: suspendedAt,
          });
          // The encoder finds its connection closed and exits; the broadcast is over.
          await exited(first, 'the encoder to be cut off by the suspension');
          await waitFor(() => h.live.broadcasts.get(user.username) === null, {
            timeoutMs: 10_000,
            what: 'the broadcast to end',
          });
          const cut = h.logs().find((l) => l.code === 'LIVE_ACCOUNT_SUSPENDED');
          assert.ok(cut, 'the cut is logged with its code');
          assert.equal(cut.broadcastId, broadcastId);
          assert.equal((await settings(h, user)).lastDisconnect?.code, 'LIVE_ACCOUNT_SUSPENDED');

          // What was broadcast until then is kept as a recording.
          const videos = await waitFor(
            async () => {
              const list = (
                await h.live.server.inject({
                  method: 'GET',
                  url: `/api/v1/channels/${user.username}/videos`,
                })
              ).json<VideoList>().items;
              return list.length > 0 ? list : false;
            },
            { timeoutMs: 15_000, what: 'the recording to be listed' },
          );
          assert.deepEqual(
            videos.map((v) => v.id),
            [broadcastId],
          );
          assert.equal(await status(h, `/vod/${broadcastId}/160p/index.m3u8`), 200);

          // The encoder restarted with the same key is refused, cleanly, with the reason.
          const refused = await publishReply(h, key);
          assert.equal(refused.code, 'NetStream.Publish.Denied');
          assert.match(refused.description, /suspended.*LIVE_ACCOUNT_SUSPENDED/);
          // Viewers are told it ended: the playlists are closed.
          const media = await h.live.server.inject({
            method: 'GET',
            url: `/hls/${user.username}/160p/index.m3u8`,
          });
          assert.ok(media.statusCode === 404 || media.body.includes('#EXT-X-ENDLIST'), media.body);

          // Lifted: the key broadcasts again.
          await h.platform.bus.publish(
            'identity.user.unsuspended.v1',
            { userId: user.id, username: user.username },
            { occurredAt: new Date(suspendedAt.getTime() + 1000) },
          );
          await waitFor(
            async () => (await publishReply(h, key)).code === 'NetStream.Publish.Start',
            { timeoutMs: 10_000, what: 'the key to publish again once the suspension is lifted' },
          );
          // That test publish hung up at once: its broadcast ends (no grace) before the encoder's.
          await waitFor(() => h.live.broadcasts.get(user.username) === null, {
            timeoutMs: 10_000,
            what: 'the test publish to end',
          });
          const second = encoder(url);
          encoders.push(second);
          const again = await waitFor(
            async () => {
              const { broadcastId: id } = await settings(h, user);
              return id && id !== broadcastId && h.live.broadcasts.get(user.username)?.publisher
                ? id
                : false;
            },
            { timeoutMs: 30_000, intervalMs: 200, what: 'the encoder to be live again' },
          );

          // A copy of the older suspension delivered late (a redelivery) neither cuts the
          // broadcast nor undoes the lift.
          await h.platform.bus.publish('identity.user.suspended.v1', suspension, {
            occurredAt: suspendedAt,
          });
          await sleep(2000);
          assert.equal(second.exitCode, null, 'the encoder still publishes');
          assert.ok(h.live.broadcasts.get(user.username)?.publisher, 'still live from it');
          assert.equal((await settings(h, user)).broadcastId, again, 'the same broadcast');
        } finally {
          await Promise.all(encoders.map(stop));
          await h.close();
        }
      });

      // The group's copy and this replica's copy of one suspension are stored at the same
      // moment; for a user live holds no row for yet, both are a first insert.
      it('stores two copies of a suspension at once, for a user not seen before', async () => {
        const h = await variant.open();
        try {
          const at = new Date().toISOString();
          await Promise.all(
            Array.from({ length: 300 }, async (_, i) => {
              const user = {
                userId: `0190aaaa-0000-7000-8000-${String(i).padStart(12, '0')}`,
                username: `standing_${i}`,
              };
              const copy = () =>
                ChannelRepository.setStanding(h.platform.db, user.userId, user.username, at, at);
              await Promise.all([copy(), copy()]);
              assert.equal(await ChannelRepository.isSuspended(h.platform.db, user.userId), true);
            }),
          );
        } finally {
          await h.close();
        }
      });
    },
  );
}
