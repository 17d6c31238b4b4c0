import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Problem, StreamKeyResponse, StreamSettings, VideoList } from '@neon/contracts';
import { sleep, syntheticSourceArgs, waitFor } from '@neon/testing';
import { variants } from './harness.js';

// "End stream" on the creator dashboard: the broadcast ends now, whatever the
// encoder does, and is kept as a video.
describe('ending your own broadcast', { timeout: 120_000 }, () => {
  const variant = variants()[0]!;

  it('disconnects the encoder, ends the playlist and keeps the VOD; with nothing live it is a 404', async () => {
    const h = await variant.open({
      RECONNECT_GRACE_SECONDS: '30',
      LIVE_ENDED_PLAYLIST_SECONDS: '2',
    });
    let encoder: ChildProcess | null = null;
    try {
      const user = h.user();
      const inject = (method: 'GET' | 'POST', url: string, auth = true) =>
        h.live.server.inject({ method, url, ...(auth ? { headers: h.as(user) } : {}) });

      const idle = await inject('POST', '/api/v1/me/stream/end');
      assert.equal(idle.statusCode, 404);
      assert.equal(idle.json<Problem>().code, 'LIVE_NOT_LIVE');
      assert.equal((await inject('POST', '/api/v1/me/stream/end', false)).statusCode, 401);

      const { streamKey } = (
        await inject('GET', '/api/v1/me/stream-key')
      ).json<StreamKeyResponse>();
      const url = `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`;
      const child = spawn(
        'ffmpeg',
        syntheticSourceArgs(url, { width: 284, height: 160, videoKbps: 300, audioKbps: 64 }),
        { stdio: ['ignore', 'ignore', 'ignore'] },
      );
      encoder = child;
      const exited = once(child, 'exit');
      const master = `/hls/${user.username}/master.m3u8`;
      await waitFor(async () => (await inject('GET', master, false)).statusCode === 200, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'the broadcast to be live',
      });
      const { broadcastId } = (await inject('GET', '/api/v1/me/stream')).json<StreamSettings>();
      assert.ok(broadcastId);

      const ended = await inject('POST', '/api/v1/me/stream/end');
      assert.equal(ended.statusCode, 200, ended.body);
      const settings = ended.json<StreamSettings>();
      assert.equal(settings.live, false);
      assert.equal(settings.broadcastId, null);

      // Ended at once, not after the 30 s grace window a lost encoder would get:
      // players see the playlist closed, then, after LIVE_ENDED_PLAYLIST_SECONDS, a 404.
      assert.equal((await inject('GET', master, false)).statusCode, 200);
      const closed = await inject('GET', `/hls/${user.username}/160p/index.m3u8`, false);
      assert.equal(closed.statusCode, 200);
      assert.equal(closed.body.trimEnd().split('\n').at(-1), '#EXT-X-ENDLIST');
      await waitFor(async () => (await inject('GET', master, false)).statusCode === 404, {
        timeoutMs: 10_000,
        intervalMs: 200,
        what: 'the ended playlists to go',
      });
      await exited; // the server closed the encoder's connection
      const videos = (
        await inject('GET', `/api/v1/channels/${user.username}/videos`, false)
      ).json<VideoList>().items;
      assert.deepEqual(
        videos.map((v) => v.id),
        [broadcastId],
      );
      const vod = await inject('GET', `/vod/${broadcastId}/160p/index.m3u8`, false);
      assert.equal(vod.statusCode, 200);
      assert.match(vod.body, /#EXT-X-ENDLIST/);
    } finally {
      if (encoder && encoder.exitCode === null && encoder.signalCode === null) {
        encoder.kill('SIGKILL');
        await once(encoder, 'exit');
      }
      await h.close();
    }
  });

  it('an encoder that stops (FCUnpublish, deleteStream) ends the broadcast at once; a dropped one gets the grace window', async () => {
    const h = await variant.open({
      RECONNECT_GRACE_SECONDS: '30',
      LIVE_ENDED_PLAYLIST_SECONDS: '2',
    });
    const encoders: ChildProcess[] = [];
    try {
      const user = h.user();
      const inject = (method: 'GET' | 'POST', url: string, auth = true) =>
        h.live.server.inject({ method, url, ...(auth ? { headers: h.as(user) } : {}) });
      const { streamKey } = (
        await inject('GET', '/api/v1/me/stream-key')
      ).json<StreamKeyResponse>();
      const url = `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`;
      const encode = (seconds?: number) => {
        const child = spawn(
          'ffmpeg',
          syntheticSourceArgs(url, {
            width: 284,
            height: 160,
            videoKbps: 300,
            audioKbps: 64,
            seconds,
          }),
          { stdio: ['ignore', 'ignore', 'ignore'] },
        );
        encoders.push(child);
        return { child, exited: once(child, 'exit') };
      };
      const master = `/hls/${user.username}/master.m3u8`;
      const media = `/hls/${user.username}/160p/index.m3u8`;
      const live = () =>
        waitFor(async () => (await inject('GET', master, false)).statusCode === 200, {
          timeoutMs: 30_000,
          intervalMs: 200,
          what: 'the broadcast to be live',
        });
      const settings = async () =>
        (await inject('GET', '/api/v1/me/stream')).json<StreamSettings>();

      // ffmpeg at the end of its input closes the stream the way OBS's "Stop Streaming" does.
      const stopping = encode(8);
      await live();
      const first = (await settings()).broadcastId;
      assert.ok(first);
      let endlist = false;
      const watching = (async () => {
        for (;;) {
          const res = await inject('GET', media, false);
          if (res.statusCode !== 200) return;
          if (res.body.includes('#EXT-X-ENDLIST')) endlist = true;
          await sleep(50);
        }
      })();
      const [code] = (await stopping.exited) as [number | null];
      assert.equal(code, 0);
      // Not after the 30 s a dropped connection is given: within a few seconds.
      await waitFor(async () => !(await settings()).live, {
        timeoutMs: 5000,
        intervalMs: 100,
        what: 'the broadcast to end',
      });
      // Closed with ENDLIST for LIVE_ENDED_PLAYLIST_SECONDS, then gone.
      await watching;
      assert.ok(endlist, 'the playlist was closed with ENDLIST before it went away');
      const gone = await inject('GET', media, false);
      assert.equal(gone.statusCode, 404, 'after the window, as for any channel not live');
      assert.equal(gone.json<Problem>().code, 'LIVE_NOT_LIVE');
      const videos = (
        await inject('GET', `/api/v1/channels/${user.username}/videos`, false)
      ).json<VideoList>().items;
      assert.deepEqual(
        videos.map((v) => v.id),
        [first],
      );

      // A connection that drops (no unpublish) keeps the broadcast for the grace window.
      const dropping = encode();
      await live();
      const second = (await settings()).broadcastId;
      assert.ok(second && second !== first);
      dropping.child.kill('SIGKILL');
      await dropping.exited;
      await sleep(3000);
      const held = await settings();
      assert.equal(held.live, true);
      assert.equal(held.broadcastId, second);
      assert.doesNotMatch((await inject('GET', media, false)).body, /#EXT-X-ENDLIST/);
      assert.equal((await inject('POST', '/api/v1/me/stream/end')).statusCode, 200);
    } finally {
      for (const e of encoders)
        if (e.exitCode === null && e.signalCode === null) {
          e.kill('SIGKILL');
          await once(e, 'exit');
        }
      await h.close();
    }
  });
});
