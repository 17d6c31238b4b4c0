// Items 1 and 2 of bench:live (see bench/live.ts): glass-to-glass latency in Chromium, and
// when the playlist first lists the part that holds a frame.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseFragment, parseInit, readBoxes } from '@neon/media';
import { waitFor } from '@neon/testing';
import { percentile } from '../lib/load.js';
import { playerScript } from './page.js';
import { FPS } from './source.js';

const HLS_JS = join(
  import.meta.dirname,
  '..',
  '..',
  'node_modules',
  'hls.js',
  'dist',
  'hls.min.js',
);

function stats(values: number[]) {
  const s = Float64Array.from(values).sort();
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: s.length,
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    max: r(s.at(-1) ?? NaN),
  };
}

/** The player page on a loopback origin of its own. */
export async function servePage(): Promise<{ url: string; close: () => void }> {
  const html = `<!doctype html><html><body><script>${readFileSync(HLS_JS, 'utf8')}</script><script>${playerScript}</script></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

export async function playlistReady(url: string): Promise<void> {
  await waitFor(
    async () => {
      const r = await fetch(url);
      await r.arrayBuffer();
      return r.status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: url },
  );
}

/** Plays `url` for `seconds`, comparing each frame on screen with the frame the source sends at that moment. */
export async function glassToGlass(
  pageUrl: string,
  url: string,
  seconds: number,
  sentAt: (frame: number) => number,
) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
  try {
    const page = await browser.newPage();
    // Served from loopback like the streams: Chromium keeps pages on other origins off private addresses.
    await page.goto(pageUrl);
    const config = { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 10 };
    await page.evaluate(`benchStart(${JSON.stringify(url)}, ${JSON.stringify(config)})`);
    const latencies: number[] = [];
    const hlsLatency: number[] = [];
    let firstFrameMs: number | null = null;
    let stalls = 0;
    let undecodable = 0;
    let levels: Record<string, number> = {};
    let lastErrors: string[] = [];
    let lastFrame = -1;
    const deadline = Date.now() + seconds * 1000;
    let measuring = false;
    while (Date.now() < deadline || !measuring) {
      await new Promise((r) => setTimeout(r, 1000));
      const s = await page.evaluate<{
        firstFrameMs: number | null;
        stalls: number;
        samples: [number, number][];
        hlsLatency: number[];
        levels: Record<string, number>;
        errors: string[];
      }>('benchDrain()');
      firstFrameMs = s.firstFrameMs;
      stalls = s.stalls;
      levels = s.levels;
      lastErrors = s.errors;
      if (firstFrameMs === null) {
        if (Date.now() > deadline + 30_000)
          throw new Error(`no frame from ${url}: ${s.errors.join(', ')}`);
        continue;
      }
      measuring = true;
      for (const [at, frame] of s.samples) {
        // A frame number read through compression must move forward by a plausible step.
        if (lastFrame >= 0 && (frame < lastFrame || frame > lastFrame + FPS * 5)) {
          undecodable++;
          continue;
        }
        lastFrame = frame;
        latencies.push((at - sentAt(frame)) / 1000);
      }
      hlsLatency.push(...s.hlsLatency);
    }
    return {
      glassToGlassSeconds: stats(latencies),
      hlsJsLatencySeconds: stats(hlsLatency),
      timeToFirstFrameMs: firstFrameMs,
      stalls,
      unreadableFrames: undecodable,
      playerErrors: lastErrors,
      framesByHeight: levels,
    };
  } finally {
    await browser.close();
  }
}

// ── 2. Part availability: when the playlist first lists the part that holds a frame.

/** The (msn, part) a client asks for next: the one after the last part listed. */
function nextPart(playlist: string): { msn: number; part: number } {
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1] ?? 0);
  let part = 0;
  for (const l of playlist.split('\n')) {
    if (l.startsWith('#EXT-X-PART:')) part++;
    else if (l && !l.startsWith('#')) {
      msn++;
      part = 0;
    }
  }
  return { msn, part };
}

/** Blocking reloads of the source rendition: when each new part is listed vs when its last frame was sent. */
export async function availability(
  base: string,
  seconds: number,
  sentAt: (frame: number) => number,
) {
  const url = `${base}/source/index.m3u8`;
  const text = async (u: string) => (await fetch(u)).text();
  let playlist = await text(url);
  const initUri = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
  const init = Buffer.from(await (await fetch(`${base}/source/${initUri}`)).arrayBuffer());
  const track = parseInit(init);
  const seen = new Set<string>();
  const partDelays: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const parts = (p: string) =>
    [...p.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((m) => m[1]!);
  for (const p of parts(playlist)) seen.add(p);
  while (Date.now() < deadline) {
    const next = nextPart(playlist);
    playlist = await text(`${url}?_HLS_msn=${next.msn}&_HLS_part=${next.part}`);
    const listedAt = Date.now();
    const fresh = parts(playlist).filter((p) => !seen.has(p));
    for (const p of fresh) seen.add(p);
    const newest = fresh.at(-1);
    if (!newest) continue;
    const bytes = Buffer.from(await (await fetch(`${base}/source/${newest}`)).arrayBuffer());
    const moofs = readBoxes(bytes).filter((b) => b.type === 'moof');
    const last = moofs.at(-1);
    if (!last) continue;
    const f = parseFragment(bytes.subarray(last.start), track);
    // The last frame of the part, in source frames (the source rung keeps the publisher's timestamps).
    const lastFrameTime = (f.baseDecodeTime + f.duration) / track.timescale - 1 / FPS;
    partDelays.push((listedAt - sentAt(Math.round(lastFrameTime * FPS))) / 1000);
  }
  return { partListedAfterFrameSentSeconds: stats(partDelays) };
}
