import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { StreamKeyResponse, StreamSettings } from '@neon/contracts';
import { sleep, syntheticSourceArgs, waitFor } from '@neon/testing';
import { variants } from './harness.js';

const WINDOW_SECONDS = 5;

/** A full collection now (the flag is set at run time: the test command passes no --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const lines = (text: string) => text.trimEnd().split('\n');

// A publisher that stops on purpose used to take the playlists with it: players
// watching got a 404 instead of the end of the stream (EXT-X-ENDLIST).
describe('the playlists of a broadcast that ended cleanly', { timeout: 120_000 }, () => {
  for (const variant of variants()) {
    it(
      `end with ENDLIST for ${WINDOW_SECONDS} s, then 404 (${variant.name})`,
      { skip: variant.skip },
      async () => {
        const h = await variant.open({
          RECONNECT_GRACE_SECONDS: '30',
          LIVE_ENDED_PLAYLIST_SECONDS: String(WINDOW_SECONDS),
        });
        let encoder: ChildProcess | null = null;
        try {
          // Listening, so segments and parts go through the fast path as players reach them.
          await h.live.server.listen({ host: '127.0.0.1', port: 0 });
          const { port } = h.live.server.server.address() as AddressInfo;
          const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
          const user = h.user();
          const api = (path: string) =>
            h.live.server.inject({ method: 'GET', url: path, headers: h.as(user) });
          const { streamKey } = (await api('/api/v1/me/stream-key')).json<StreamKeyResponse>();
          const url = `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`;
          const child = spawn(
            'ffmpeg',
            syntheticSourceArgs(url, { width: 284, height: 160, videoKbps: 300, audioKbps: 64 }),
            { stdio: ['ignore', 'ignore', 'ignore'] },
          );
          encoder = child;
          const exited = once(child, 'exit');
          const hls = `/hls/${user.username}`;
          const master = `${hls}/master.m3u8`;
          const media = `${hls}/160p/index.m3u8`;
          await waitFor(async () => (await get(master)).status === 200, {
            timeoutMs: 30_000,
            intervalMs: 200,
            what: 'the broadcast to be live',
          });
          await sleep(4000);
          const live = (await api('/api/v1/me/stream')).json<StreamSettings>();
          assert.equal(live.live, true);

          // SIGINT: ffmpeg finishes its output and unpublishes (FCUnpublish, deleteStream).
          child.kill('SIGINT');
          await exited;
          // Within seconds, not the 30 s grace window a dropped connection gets.
          await waitFor(async () => !(await api('/api/v1/me/stream')).json<StreamSettings>().live, {
            timeoutMs: 10_000,
            intervalMs: 100,
            what: 'the broadcast to end',
          });
          const endedAt = Date.now();

          const m = await get(master);
          assert.equal(m.status, 200);
          assert.match(await m.text(), /160p\/index\.m3u8/);
          const r = await get(media);
          assert.equal(r.status, 200);
          const playlist = await r.text();
          assert.equal(lines(playlist).at(-1), '#EXT-X-ENDLIST');
          assert.doesNotMatch(playlist, /#EXT-X-PRELOAD-HINT/);
          assert.doesNotMatch(playlist, /#EXT-X-RENDITION-REPORT/);
          const pipeline = new WeakRef(h.live.broadcasts.serving(user.username)!.pipeline!);

          // What it lists stays fetchable: segments and parts.
          const segments = [...playlist.matchAll(/^s(\d+)\.m4s$/gm)].map((x) => Number(x[1]));
          const parts = [...playlist.matchAll(/URI="(p\d+\.m4s)"/g)].map((x) => x[1]!);
          assert.ok(segments.length > 0 && parts.length > 0, playlist);
          const last = Math.max(...segments);
          for (const file of [`s${last}.m4s`, parts.at(-1)!, 'init-0.mp4']) {
            const res = await get(`${hls}/160p/${file}`);
            assert.equal(res.status, 200, file);
            assert.ok((await res.arrayBuffer()).byteLength > 0, file);
          }
          const partBytes = (() => {
            const held = h.live.broadcasts
              .serving(user.username)!
              .pipeline!.resourceNow('160p', parts.at(-1)!);
            assert.ok(held);
            return new WeakRef(held.body);
          })();

          // Blocking requests past the end are answered at once with the closed playlist.
          for (const q of [`_HLS_msn=${last + 1}&_HLS_part=0`, `_HLS_msn=${last + 20}`]) {
            const started = Date.now();
            const res = await get(`${media}?${q}`);
            assert.equal(res.status, 200, q);
            assert.equal(lines(await res.text()).at(-1), '#EXT-X-ENDLIST', q);
            assert.ok(Date.now() - started < 1000, `${q} answered in ${Date.now() - started} ms`);
          }

          const mpd = await get(`/dash/${user.username}/manifest.mpd`);
          assert.equal(mpd.status, 200);
          assert.match(await mpd.text(), /type="static"/);

          // After the window: gone, as for any channel that is not live.
          await waitFor(
            async () =>
              (await get(master)).status === 404 &&
              (await get(media)).status === 404 &&
              (await get(`${hls}/160p/s${last}.m4s`)).status === 404,
            {
              timeoutMs: (WINDOW_SECONDS + 5) * 1000,
              intervalMs: 100,
              what: 'the end of the window',
            },
          );
          const served = Date.now() - endedAt;
          assert.ok(served >= (WINDOW_SECONDS - 1) * 1000, `served for ${served} ms`);
          assert.equal(h.live.broadcasts.serving(user.username), null);

          // Its memory goes with it: nothing holds the pipeline or its parts any more.
          await sleep(0);
          collectGarbage();
          await sleep(0);
          collectGarbage();
          assert.equal(pipeline.deref(), undefined, 'the ended pipeline is released');
          assert.equal(partBytes.deref(), undefined, 'its parts are released');
        } finally {
          if (encoder && encoder.exitCode === null && encoder.signalCode === null) {
            encoder.kill('SIGKILL');
            await once(encoder, 'exit');
          }
          await h.close();
        }
      },
    );
  }

  it('a dropped publisher that does not come back is gone at once when its grace window ends', async () => {
    const h = await variants()[0]!.open({
      RECONNECT_GRACE_SECONDS: '2',
      LIVE_ENDED_PLAYLIST_SECONDS: '30',
    });
    let encoder: ChildProcess | null = null;
    try {
      const user = h.user();
      const api = (path: string, auth = true) =>
        h.live.server.inject({
          method: 'GET',
          url: path,
          ...(auth ? { headers: h.as(user) } : {}),
        });
      const { streamKey } = (await api('/api/v1/me/stream-key')).json<StreamKeyResponse>();
      const url = `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`;
      const child = spawn(
        'ffmpeg',
        syntheticSourceArgs(url, { width: 284, height: 160, videoKbps: 300, audioKbps: 64 }),
        { stdio: ['ignore', 'ignore', 'ignore'] },
      );
      encoder = child;
      const exited = once(child, 'exit');
      const media = `/hls/${user.username}/160p/index.m3u8`;
      await waitFor(async () => (await api(media, false)).statusCode === 200, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'the broadcast to be live',
      });
      child.kill('SIGKILL'); // no unpublish: the connection just drops
      await exited;
      await waitFor(async () => !(await api('/api/v1/me/stream')).json<StreamSettings>().live, {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: 'the grace window to end the broadcast',
      });
      assert.equal((await api(media, false)).statusCode, 404);
      assert.equal(h.live.broadcasts.serving(user.username), null);
    } finally {
      if (encoder && encoder.exitCode === null && encoder.signalCode === null) {
        encoder.kill('SIGKILL');
        await once(encoder, 'exit');
      }
      await h.close();
    }
  });
});
