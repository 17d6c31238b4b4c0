import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { StreamKeyResponse, StreamSettings } from '@neon/contracts';
import { clientHeaders, createLogger, loadConfig, uuidv7, type Client } from '@neon/kit';
import { openPlatform, platformSpec, type Platform } from '@neon/platform';
import { buildApp, liveService, type LiveService } from '@neon/live';
import { cpuLimitedFfmpeg, syntheticSourceArgs, waitFor } from '@neon/testing';
import { launchBrowser } from './lib/browser.js';
import { run, type Spawned } from './lib/process.js';

/*
 * A viewer watching the 360p rung in Chromium (hls.js, the web player's live
 * settings) when the transcoder runs out of CPU: the rung is turned off and its
 * playlist answers 404, and the player moves to what is still produced and
 * keeps playing. The starvation is real: a CPU cap on the ladder's ffmpeg,
 * lifted while the player starts, put on once it plays 360p.
 */

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

/** The player page, on a loopback origin of its own (the origin answers with CORS). */
const PAGE = `<!doctype html><html><body><video muted playsinline></video>
<script>${readFileSync(HLS_JS, 'utf8')}</script>
<script>
window.player = { errors: [], fatal: null, levels: [], recovered: 0 };
window.play = (src) => {
  const video = document.querySelector('video');
  const hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 30 });
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => {
    window.player.levels = d.levels.map((l) => l.height);
    video.play();
  });
  hls.on(Hls.Events.ERROR, (_e, d) => {
    window.player.errors.push(d.details + (d.response ? ' ' + d.response.code : '') + (d.fatal ? ' (fatal)' : ''));
    if (!d.fatal) return;
    // As the web player does: a media error is recovered from, up to three times.
    if (d.type === Hls.ErrorTypes.MEDIA_ERROR && window.player.recovered < 3) {
      window.player.recovered += 1;
      hls.recoverMediaError();
    } else window.player.fatal = d.details;
  });
  hls.loadSource(src);
  hls.attachMedia(video);
};
window.state = () => {
  const v = document.querySelector('video');
  const level = window.hls.levels[window.hls.currentLevel];
  return { t: v.currentTime, paused: v.paused, error: v.error ? v.error.code : null, height: level ? level.height : null, url: level ? String(level.url) : '' };
};
</script></body></html>`;

interface PlayerState {
  t: number;
  paused: boolean;
  error: number | null;
  height: number | null;
  url: string;
}

const state = (page: Page) => page.evaluate<PlayerState>('window.state()');

/**
 * Waits (up to 30 s: a loaded machine may stall the picture a while, as a viewer's would)
 * for `seconds` of picture, or a failure the web player would give up on; checks there was
 * none and the player plays. Returns where it ended, how far it moved and what it took.
 */
async function playsFor(tab: Page, seconds: number) {
  const from = await state(tab);
  const since = Date.now();
  let to = from;
  await waitFor(
    async () => {
      to = await state(tab);
      return (
        to.t - from.t >= seconds ||
        (await tab.evaluate<string | null>('window.player.fatal')) !== null
      );
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `${seconds} s of picture` },
  );
  const tookMs = Date.now() - since;
  const player = await tab.evaluate<{ fatal: string | null; errors: string[] }>('window.player');
  assert.equal(player.fatal, null, player.errors.join(', '));
  assert.equal(to.error, null);
  assert.equal(to.paused, false);
  return { to, advanced: to.t - from.t, tookMs, errors: player.errors.join(', ') };
}

const dir = mkdtempSync(join(tmpdir(), 'neon-shed-player-'));
const limit = cpuLimitedFfmpeg(dir, 0.08);

describe(
  'a player on a rung that is turned off keeps playing (Chromium, hls.js)',
  { timeout: 180_000 },
  () => {
    let platform: Platform & { close(): Promise<void> };
    let live: LiveService;
    let base: string;
    let page: Server;
    let pageUrl: string;
    let browser: Browser;
    let publisher: Spawned | undefined;
    const streamer: Client = { id: uuidv7(), username: 'shed_viewer_e2e', roles: ['user'] };

    before(async () => {
      limit.setCores(null);
      const env = {
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
        RTMP_HOST: '127.0.0.1',
        RTMP_PORT: '0',
        FFMPEG_PATH: limit.ffmpegPath,
        LIVE_LADDER_DRAIN_MS: '1000',
      };
      platform = await openPlatform({
        name: 'live-shed-e2e',
        config: loadConfig(platformSpec, env),
        shape: 'embedded',
        logger: createLogger({ level: 'warn' }),
      });
      live = await buildApp(platform, loadConfig(liveService.spec, env));
      base = await live.server.listen({ host: '127.0.0.1', port: 0 });
      await live.start!();
      page = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE),
      );
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
      pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
      browser = await launchBrowser();
    });

    after(async () => {
      if (publisher && publisher.child.exitCode === null) await publisher.stop('SIGKILL');
      await browser?.close();
      page?.close();
      await live?.server.close();
      await live?.close();
      await platform?.close();
      limit.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('moves off the 404 rung to one still produced, without a fatal error', async () => {
      const headers = clientHeaders(streamer, platform.internalSecret);
      const key = (await (
        await fetch(`${base}/api/v1/me/stream-key`, { headers })
      ).json()) as StreamKeyResponse;
      publisher = run(
        'ffmpeg',
        syntheticSourceArgs(`rtmp://127.0.0.1:${live.rtmpPort()}/live/${key.streamKey}`, {
          width: 640,
          height: 360,
          seconds: 120,
        }),
        {},
      );
      const master = `${base}/hls/${streamer.username}/master.m3u8`;
      await waitFor(async () => (await fetch(master)).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'the broadcast to be live',
      });

      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      await tab.evaluate(`window.play(${JSON.stringify(master)})`);
      await waitFor(async () => (await state(tab)).t > 0, {
        timeoutMs: 30_000,
        what: 'playback to start',
      });
      // The viewer picks 360p (the web player's quality menu sets currentLevel the same way).
      await tab.evaluate(
        `window.hls.currentLevel = window.hls.levels.findIndex((l) => String(l.url).includes('360p/'))`,
      );
      await waitFor(async () => (await state(tab)).height === 360, {
        timeoutMs: 20_000,
        what: 'the player to play 360p',
      });

      // The machine runs out of room: the ladder is capped and sheds 360p.
      limit.setCores(0.08);
      await waitFor(
        async () => {
          const s = (await (
            await fetch(`${base}/api/v1/me/stream`, { headers })
          ).json()) as StreamSettings;
          return s.ingest?.health.droppedRungs.includes('360p') ?? false;
        },
        { timeoutMs: 40_000, intervalMs: 250, what: 'the ladder to shed 360p' },
      );
      assert.equal((await fetch(`${base}/hls/${streamer.username}/360p/index.m3u8`)).status, 404);

      // Once hls.js has met the 404 it plays another rendition; the picture keeps moving.
      await waitFor(
        async () =>
          (await tab.evaluate<string[]>('window.player.errors')).some((e) =>
            e.startsWith('levelLoadError'),
          ),
        { timeoutMs: 30_000, what: 'hls.js to hear that 360p is gone' },
      );
      // The picture moves on, without a failure the web player gives up on.
      const { to, advanced, tookMs, errors } = await playsFor(tab, 4);
      assert.doesNotMatch(to.url, /360p\//, 'no longer on the rung that was turned off');
      process.stdout.write(
        `# after the shed: playing ${to.url.replace(base, '')}, advanced ${advanced.toFixed(2)} s in ${tookMs} ms; errors: ${errors}\n`,
      );
    });

    it('a viewer who arrives after the shed starts playing what is still produced', async () => {
      const master = `${base}/hls/${streamer.username}/master.m3u8`;
      const listed = await (await fetch(master)).text();
      assert.doesNotMatch(listed, /360p\//, 'the master playlist no longer offers 360p');
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      const asked = Date.now();
      await tab.evaluate(`window.play(${JSON.stringify(master)})`);
      await waitFor(async () => (await state(tab)).t > 0, {
        timeoutMs: 30_000,
        what: 'playback to start after the shed',
      });
      const startedMs = Date.now() - asked;
      const { to, tookMs, errors } = await playsFor(tab, 3);
      process.stdout.write(
        `# a new viewer after the shed started in ${startedMs} ms on ${to.url.replace(base, '')}, played 3 s in ${tookMs} ms; errors: ${errors}\n`,
      );
    });
  },
);
