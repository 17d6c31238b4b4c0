import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { StreamKeyResponse, StreamSettings, VideoList } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { publishStatus } from '@neon/rtmp/testing';
import { waitFor } from '@neon/testing';
import { encoder, exited, stop } from './encoder.js';
import { variants, type Harness } from './harness.js';

// An encoder that freezes (a hung machine, a stopped process) keeps its TCP
// connection open and sends nothing. Its owner must be able to go live again
// at once with the same key, and viewers must not be served its last parts as
// live. SIGSTOP freezes a real ffmpeg exactly that way.

describe('a frozen publisher', { timeout: 120_000 }, () => {
  const variant = variants()[0]!;

  async function setUp(h: Harness): Promise<{ user: Client; url: string }> {
    const user = h.user();
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream-key',
      headers: h.as(user),
    });
    const { streamKey } = res.json<StreamKeyResponse>();
    return { user, url: `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}` };
  }

  const text = async (h: Harness, url: string) => {
    const res = await h.live.server.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.body };
  };

  const settings = async (h: Harness, user: Client) =>
    (
      await h.live.server.inject({ method: 'GET', url: '/api/v1/me/stream', headers: h.as(user) })
    ).json<StreamSettings>();

  async function liveNow(h: Harness, user: Client): Promise<string> {
    await waitFor(async () => (await text(h, `/hls/${user.username}/master.m3u8`)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the live master playlist',
    });
    const { broadcastId } = await settings(h, user);
    assert.ok(broadcastId);
    return broadcastId;
  }

  it('is replaced at once by a new publish with the key; the same broadcast and its VOD continue', async () => {
    // A long stall limit keeps the two behaviours apart; no grace so the end is prompt.
    const h = await variant.open({
      INGEST_STALL_END_MS: '120000',
      RECONNECT_GRACE_SECONDS: '0',
    });
    const encoders: ChildProcess[] = [];
    try {
      const { user, url } = await setUp(h);
      const first = encoder(url);
      encoders.push(first);
      const broadcastId = await liveNow(h, user);

      const port = h.live.rtmpPort()!;
      const key = url.slice(url.lastIndexOf('/') + 1);
      assert.equal(
        (await publishStatus(port, key)).code,
        'NetStream.Publish.BadName',
        'a publisher that is sending is not taken over',
      );

      first.kill('SIGSTOP');
      await waitFor(() => (h.live.broadcasts.get(user.username)?.silentMs() ?? 0) > 2000, {
        timeoutMs: 10_000,
        what: 'the frozen encoder to have been silent for the takeover limit',
      });
      const second = encoder(url);
      encoders.push(second);

      const media = `/hls/${user.username}/160p/index.m3u8`;
      await waitFor(async () => /#EXT-X-DISCONTINUITY\n/.test((await text(h, media)).body), {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'the second encoder continuing the live playlist after a discontinuity',
      });
      assert.equal(second.exitCode, null, 'the new encoder is still publishing');
      assert.equal((await settings(h, user)).broadcastId, broadcastId, 'the same broadcast');
      const replaced = h.logs().find((l) => l.code === 'LIVE_PUBLISHER_REPLACED');
      assert.ok(replaced, 'the takeover is logged with its code');
      assert.equal(replaced.broadcastId, broadcastId);

      // The frozen encoder's connection was closed: woken, it finds it gone and exits.
      first.kill('SIGCONT');
      await exited(first);

      await stop(second);
      await waitFor(
        async () => (await text(h, `/hls/${user.username}/master.m3u8`)).status === 404,
        {
          timeoutMs: 30_000,
          what: 'the broadcast to end',
        },
      );
      const videos = (
        await h.live.server.inject({
          method: 'GET',
          url: `/api/v1/channels/${user.username}/videos`,
        })
      ).json<VideoList>().items;
      assert.deepEqual(
        videos.map((v) => v.id),
        [broadcastId],
        'one video for the whole broadcast',
      );
      const vod = await text(h, `/vod/${broadcastId}/160p/index.m3u8`);
      assert.equal(vod.status, 200);
      assert.match(vod.body, /#EXT-X-DISCONTINUITY/);
      assert.match(vod.body, /#EXT-X-ENDLIST/);
    } finally {
      await Promise.all(encoders.map(stop));
      await h.close();
    }
  });

  it('that stays silent ends its broadcast: the playlist is no longer live and the VOD is kept', async () => {
    const h = await variant.open();
    const encoders: ChildProcess[] = [];
    try {
      const { user, url } = await setUp(h);
      const frozen = encoder(url);
      encoders.push(frozen);
      const broadcastId = await liveNow(h, user);

      frozen.kill('SIGSTOP');
      // Without an end on silence the RTMP idle timeout (30 s) and then the
      // grace window (10 s) would run before the playlist stopped being live.
      const gone = await waitFor(
        async () => {
          const r = await text(h, `/hls/${user.username}/master.m3u8`);
          return r.status === 404 ? r : false;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: 'the stalled broadcast to end' },
      );
      assert.equal((JSON.parse(gone.body) as { code: string }).code, 'LIVE_NOT_LIVE');
      const stalled = h.logs().find((l) => l.code === 'LIVE_INGEST_STALLED');
      assert.ok(stalled, 'the end is logged with its code');
      assert.equal(stalled.broadcastId, broadcastId);
      assert.equal((await settings(h, user)).live, false);

      const videos = (
        await h.live.server.inject({
          method: 'GET',
          url: `/api/v1/channels/${user.username}/videos`,
        })
      ).json<VideoList>().items;
      assert.deepEqual(
        videos.map((v) => v.id),
        [broadcastId],
      );
      const vod = await text(h, `/vod/${broadcastId}/160p/index.m3u8`);
      assert.match(vod.body, /#EXT-X-ENDLIST/);
    } finally {
      for (const e of encoders) e.kill('SIGCONT');
      await Promise.all(encoders.map(stop));
      await h.close();
    }
  });
});
