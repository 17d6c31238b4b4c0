import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamKeyResponse, StreamSettings, VideoList } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { cpuLimitedFfmpeg, syntheticSourceArgs, waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

// A machine too small for the whole ladder, for real: the transcoder runs in a
// control group capped at 0.08 of a core, enough for the 160p rung of a 360p30
// source and about half of what 360p + 160p need. The broadcast stays live on
// what is left, close to the publisher, its owner reads that it is degraded
// and why, and the recording holds everything that was sent.
const PUBLISHED_SECONDS = 30;
const variant = variants()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'neon-starved-'));
const limit = cpuLimitedFfmpeg(dir, 0.08);

describe('a broadcast whose transcoder is starved of CPU', () => {
  let h: Harness;
  before(async () => {
    h = await variant.open({
      FFMPEG_PATH: limit.ffmpegPath,
      RECONNECT_GRACE_SECONDS: '0',
      LIVE_LADDER_DRAIN_MS: '2000',
    });
  });
  after(async () => {
    await h?.close();
    limit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function get<T>(url: string, user?: Client): Promise<T> {
    const res = await h.live.server.inject({
      method: 'GET',
      url,
      headers: user ? h.as(user) : {},
    });
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    return String(res.headers['content-type']).includes('json') ? res.json<T>() : (res.body as T);
  }

  /**
   * Player latency at the live edge for the next `count` parts of `rendition`:
   * when each part is listed (blocking reload) against when its last frame
   * reached ingest (its program date-time and length), plus the part hold-back
   * the player keeps.
   */
  async function edgeLatencies(channel: string, rendition: string, count: number) {
    const latencies: number[] = [];
    const seen = new Set<string>();
    let query = '';
    while (latencies.length < count) {
      const text = await get<string>(`/hls/${channel}/${rendition}/index.m3u8${query}`);
      const listedAt = Date.now();
      const holdBack = Number(/PART-HOLD-BACK=([\d.]+)/.exec(text)?.[1]) * 1000;
      let pdt = 0;
      // The next request asks for the part after the last one listed.
      let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
      let part = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
          pdt = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
        if (line.startsWith('#EXT-X-PART:')) {
          part++;
          pdt += Number(/DURATION=([\d.]+)/.exec(line)?.[1]) * 1000;
          const uri = /URI="([^"]+)"/.exec(line)?.[1] ?? '';
          if (query !== '' && !seen.has(uri)) latencies.push((listedAt - pdt + holdBack) / 1000);
          seen.add(uri);
        }
        if (line.startsWith('#EXTINF:')) {
          msn++;
          part = 0;
        }
      }
      query = `?_HLS_msn=${msn}&_HLS_part=${part}`;
    }
    return latencies.slice(0, count);
  }

  it('sheds a rung, stays live within 5 s of the publisher, says why, and records everything', async () => {
    const user = h.user();
    const { streamKey } = await get<StreamKeyResponse>('/api/v1/me/stream-key', user);
    const child = spawn(
      'ffmpeg',
      syntheticSourceArgs(`rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${streamKey}`, {
        width: 640,
        height: 360,
        seconds: PUBLISHED_SECONDS,
      }),
      { stdio: 'ignore' },
    );
    const exited = once(child, 'exit');
    try {
      const ingest = await waitFor(
        async () => {
          const i = (await get<StreamSettings>('/api/v1/me/stream', user)).ingest;
          return i?.health.state === 'degraded' ? i : false;
        },
        { timeoutMs: 25_000, intervalMs: 250, what: 'the ladder to shed a rung' },
      );
      // Why: the 360p quality is off to keep up.
      assert.deepEqual(ingest.health.droppedRungs, ['360p']);
      // No smaller picture to advise below 360p: the dropped quality is the whole story.
      assert.equal(ingest.health.advice, null);
      assert.equal(ingest.health.replicaFull, false);
      const line = h.logs().find((l) => l.rendition === '360p' && Number(l.level) === 40);
      assert.ok(line, 'the shed is logged at warn');

      // New viewers are offered what is still produced; one still on 360p is told it is gone.
      const master = await get<string>(`/hls/${user.username}/master.m3u8`);
      assert.doesNotMatch(master, /360p/);
      assert.match(master, /160p\/index\.m3u8/);
      const gone = await h.live.server.inject({
        method: 'GET',
        url: `/hls/${user.username}/360p/index.m3u8`,
      });
      assert.equal(gone.statusCode, 404);
      assert.match(String(gone.headers['content-type']), /problem\+json/);
      const metrics = await h.live.server.metrics.metrics();
      assert.match(
        metrics,
        new RegExp(`live_rungs_shed\\{[^}]*channel="${user.username}"[^}]*\\} 1`),
      );
      assert.match(
        metrics,
        new RegExp(`live_rungs_active\\{[^}]*channel="${user.username}"[^}]*\\} 1`),
      );

      // The reduced ladder catches up on the backlog the restart left, then stays close.
      await waitFor(async () => (await edgeLatencies(user.username, '160p', 1))[0]! < 5, {
        timeoutMs: 20_000,
        what: 'the reduced ladder to catch up',
      });
      const latencies = await edgeLatencies(user.username, '160p', 15);
      assert.ok(
        latencies.every((l) => l < 5),
        `player latency on 160p: ${latencies.map((l) => l.toFixed(2)).join(', ')} s`,
      );

      await exited;
      assert.equal(child.exitCode, 0);
      const video = await waitFor(
        async () =>
          (await get<VideoList>(`/api/v1/channels/${user.username}/videos`)).items[0] ?? false,
        { timeoutMs: 30_000, intervalMs: 250, what: 'the recording' },
      );
      assert.ok(
        Math.abs(video.durationSeconds - PUBLISHED_SECONDS) <= PUBLISHED_SECONDS * 0.02,
        `recorded ${video.durationSeconds} s of ${PUBLISHED_SECONDS} s`,
      );
      const vodMaster = await get<string>(video.playlistUrl);
      assert.match(vodMaster, /^source\/index\.m3u8$/m);
      const source = await get<string>(
        video.playlistUrl.replace('master.m3u8', 'source/index.m3u8'),
      );
      const seconds = [...source.matchAll(/#EXTINF:([\d.]+)/g)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
      assert.ok(
        Math.abs(seconds - PUBLISHED_SECONDS) <= PUBLISHED_SECONDS * 0.02,
        `the source rendition plays ${seconds} s`,
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});
