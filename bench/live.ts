// npm run bench:live — Neon's live pipeline side by side with nginx-rtmp.
//   1. glass-to-glass latency in headless Chromium with hls.js (lowLatencyMode, catch-up)
//   2. part availability latency (frame published → playlist lists its part)
//   3. transcoding CPU-seconds per media-second: one ffmpeg for the ladder vs one per rung
//   4. origin requests/s for a ~75 KB part vs nginx serving the same bytes
// Knobs: BENCH_LATENCY_SECONDS (60), BENCH_TRANSCODE_SECONDS (20), BENCH_ORIGIN_SECONDS (10),
// BENCH_CONNECTIONS (32), BENCH_ORIGIN_ROUNDS (3), BENCH_ONLY=origin (just item 4),
// BENCH_CPU_PROF=<dir> (CPU profile of the Neon process). Results go to bench/results/live-<time>.json.
// Layout: shared helpers, then one section per item (each headed `// ── n.`), then main(), which runs them in order.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { StreamKeyResponse } from '@neon/contracts';
import { clientHeaders, uuidv7 } from '@neon/kit';
import {
  buildFfmpegArgs,
  parseFragment,
  parseInit,
  planLadder,
  readBoxes,
  type PlannedRendition,
  type SourceInfo,
} from '@neon/media';
import { waitFor } from '@neon/testing';
import { median, percentile, runLoad } from './lib/load.js';
import { cpuSeconds, startChild, stopProcess, type Child } from './lib/proc.js';
import { startNginxRtmp, type NginxRtmp } from './live/nginx-rtmp.js';
import { playerScript } from './live/page.js';

const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 60);
const TRANSCODE_SECONDS = Number(process.env.BENCH_TRANSCODE_SECONDS ?? 20);
const ORIGIN_SECONDS = Number(process.env.BENCH_ORIGIN_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ORIGIN_ROUNDS = Number(process.env.BENCH_ORIGIN_ROUNDS ?? 3);
/** `origin`: only the origin comparison (a short publish to fill the parts, then the load). */
const ONLY = process.env.BENCH_ONLY ?? '';
/** A folder for a CPU profile of the Neon server process (`node --cpu-prof`). */
const PROFILE_DIR = process.env.BENCH_CPU_PROF ?? '';
const FPS = 30;
const SECRET = randomBytes(24).toString('base64url');
const HLS_JS = join(import.meta.dirname, '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js');
const run = promisify(execFile);

const children: ChildProcess[] = [];
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));

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

/**
 * The synthetic source: testsrc2 720p30 with its frame number drawn as 16
 * black/white blocks across the top, a 440 Hz sine, H.264/AAC, keyframe every
 * second; one encode pushed to every target (tee). `sentAt(n)` estimates when
 * frame n left: with -re, frame n is read at T0 + n/30, and each progress
 * report (frame count, wall time) bounds T0 from above.
 */
function startSource(targets: string[]) {
  const strip =
    "nullsrc=size=16x2:rate=30,format=gray,geq=lum='255*mod(floor(N/pow(2\\,X))\\,2)',scale=1280:40:flags=neighbor,format=yuv420p";
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=${FPS}`,
    '-f',
    'lavfi',
    '-i',
    strip,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-filter_complex',
    '[0:v][1:v]overlay=0:0[v]',
    '-map',
    '[v]',
    '-map',
    '2:a',
    // The tee muxer does not ask encoders for global headers itself; FLV needs them.
    '-flags',
    '+global_header',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(FPS),
    '-b:v',
    '2500k',
    '-maxrate',
    '2500k',
    '-bufsize',
    '1250k',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.1',
    '-f',
    'tee',
    targets.map((t) => `[f=flv:onfail=ignore]${t}`).join('|'),
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let t0 = Infinity;
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    const now = Date.now();
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      const m = /^frame=(\d+)/.exec(l);
      if (m && Number(m[1]) > 0) t0 = Math.min(t0, now - (Number(m[1]) * 1000) / FPS);
    }
  });
  return { child, sentAt: (frame: number) => t0 + (frame * 1000) / FPS, t0: () => t0 };
}

// ── 1. Glass-to-glass latency: hls.js in Chromium; the frame on screen against the frame being sent.

async function playlistReady(url: string): Promise<void> {
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
async function glassToGlass(
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
async function availability(base: string, seconds: number, sentAt: (frame: number) => number) {
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

// ── 3. Transcoding CPU: the whole ladder in one ffmpeg against one ffmpeg per rung.

/** CPU-seconds (user + system) of reaped children of this process, from /proc/self/stat. */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

async function timed(commands: string[][]): Promise<{ cpu: number; wall: number }> {
  const cpu0 = childCpuSeconds();
  const t0 = Date.now();
  await Promise.all(commands.map((args) => run('ffmpeg', args, { maxBuffer: 1 << 24 })));
  return { cpu: childCpuSeconds() - cpu0, wall: (Date.now() - t0) / 1000 };
}

function fileArgs(plan: PlannedRendition[], input: string): string[] {
  return [
    '-y',
    ...buildFfmpegArgs(plan, { partTargetMs: 250 }).map((a) =>
      a === 'pipe:0' ? input : /^pipe:\d+$/.test(a) ? '/dev/null' : a,
    ),
  ];
}

async function transcoding(dir: string) {
  const input = join(dir, 'source.flv');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=${FPS}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(TRANSCODE_SECONDS),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    String(FPS),
    '-b:v',
    '2500k',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-f',
    'flv',
    '-y',
    input,
  ]);
  const source: SourceInfo = {
    width: 1280,
    height: 720,
    fps: FPS,
    videoCodec: 'h264',
    audioCodec: 'aac',
  };
  const plan = planLadder(source);
  const one = await timed([fileArgs(plan, input)]);
  const perRung = await timed(plan.map((r) => fileArgs([r], input)));
  const passthrough = await timed([fileArgs(planLadder(source, []), input)]);
  const cores = cpus().length;
  const perMediaSecond = (x: { cpu: number }) =>
    Math.round((x.cpu / TRANSCODE_SECONDS) * 1000) / 1000;
  return {
    renditions: plan.map((r) => r.name),
    mediaSeconds: TRANSCODE_SECONDS,
    oneProcess: {
      cpuSecondsPerMediaSecond: perMediaSecond(one),
      realTimeFactor: Math.round((TRANSCODE_SECONDS / one.wall) * 100) / 100,
    },
    processPerRung: { cpuSecondsPerMediaSecond: perMediaSecond(perRung) },
    ratio: Math.round((one.cpu / perRung.cpu) * 1000) / 1000,
    passthrough: { cpuSecondsPerMediaSecond: perMediaSecond(passthrough) },
    cores,
    /** Upper bounds from ffmpeg CPU alone (the packager and origin take some more). */
    concurrent720p30Broadcasts: {
      defaultLadder: Math.floor(cores / (one.cpu / TRANSCODE_SECONDS)),
      passthrough: Math.floor(cores / Math.max(0.001, passthrough.cpu / TRANSCODE_SECONDS)),
    },
  };
}

// ── 1. (cont.) The page the browser loads for item 1.

/** The player page on a loopback origin of its own. */
async function servePage(): Promise<{ url: string; close: () => void }> {
  const html = `<!doctype html><html><body><script>${readFileSync(HLS_JS, 'utf8')}</script><script>${playerScript}</script></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

// ── 4. Origin throughput: one ~75 KB part, from Neon's origin and from nginx.

/** The part nearest ~75 KB of the source rendition, once the ladder has drained (source stopped). */
async function pickPart(base: string): Promise<{ uri: string; body: Buffer }> {
  // Let the ladder finish what it still had queued, so the origin runs alone.
  let last = '';
  await waitFor(
    async () => {
      const now = await (await fetch(`${base}/hls/bench/source/index.m3u8`)).text();
      const settled = now === last;
      last = now;
      return settled;
    },
    { timeoutMs: 60_000, intervalMs: 3000, what: 'the ladder to drain' },
  );
  const partUris = [...last.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((m) => m[1]!);
  let best = { uri: '', body: Buffer.alloc(0) };
  for (const uri of partUris) {
    const body = Buffer.from(await (await fetch(`${base}/hls/bench/source/${uri}`)).arrayBuffer());
    if (Math.abs(body.length - 75_000) < Math.abs(best.body.length - 75_000)) best = { uri, body };
  }
  return best;
}

/**
 * Origin requests/s: the same ~75 KB part through Neon (memory) and nginx
 * (sendfile), same connections and keep-alive, alternating for
 * BENCH_ORIGIN_ROUNDS rounds; the ratio of medians is the figure.
 */
async function originLoad(
  base: string,
  nginx: NginxRtmp,
  servers: { neon: number; nginx: number },
  gateway?: { url: string; pid: number },
) {
  const { uri, body } = await pickPart(base);
  // Servers on one core, the load generator (this process) on the other: the
  // servers compete for the same core as each other, never with the load.
  const all = `0-${cpus().length - 1}`;
  const pinned = cpus().length > 1;
  const pids = [servers.neon, servers.nginx, ...(gateway ? [gateway.pid] : [])];
  if (pinned) {
    for (const pid of pids) await pin(pid, '0');
    await pin(process.pid, '1');
  }
  try {
    return await measureOrigin(base, nginx, servers, uri, body, gateway);
  } finally {
    if (pinned) for (const pid of [...pids, process.pid]) await pin(pid, all).catch(() => {});
  }
}

async function measureOrigin(
  base: string,
  nginx: NginxRtmp,
  servers: { neon: number; nginx: number },
  uri: string,
  body: Buffer,
  gateway?: { url: string; pid: number },
) {
  writeFileSync(join(nginx.staticDir, 'part.m4s'), body);
  const path = `/hls/bench/source/${uri}`;
  // name, origin, path, the processes whose CPU serves it
  const targets: [string, string, string, number[]][] = [
    ['neon', new URL(base).origin, path, [servers.neon]],
    ['nginx', nginx.httpUrl, '/static/part.m4s', [servers.nginx]],
  ];
  if (gateway) targets.push(['neonGateway', gateway.url, path, [gateway.pid, servers.neon]]);
  const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const rounds: Record<string, number[]> = {};
  // Server CPU per answer: what a busy shared machine disturbs least.
  const cpuUs: Record<string, number[]> = {};
  // The load generator's CPU per answer (near 1 s per second means it is the limit).
  const loadCpuUs: Record<string, number[]> = {};
  const p99: Record<string, number[]> = {};
  const errors: Record<string, number> = {};
  // A second of each first: JIT, connections, the gateway's edge cache.
  for (const [, origin, p] of targets) await runLoad(origin, p, {}, CONNECTIONS, 1000);
  for (let round = 0; round < ORIGIN_ROUNDS; round++) {
    for (const [name, origin, p, pids] of targets) {
      const cpu0 = cpuOf(pids);
      const own0 = process.cpuUsage();
      const l = await runLoad(origin, p, {}, CONNECTIONS, ORIGIN_SECONDS * 1000);
      (cpuUs[name] ??= []).push(Math.round(((cpuOf(pids) - cpu0) * 1e6) / l.requests));
      const own = process.cpuUsage(own0);
      (loadCpuUs[name] ??= []).push(Math.round((own.user + own.system) / l.requests));
      (rounds[name] ??= []).push(Math.round(l.requests / l.seconds));
      (p99[name] ??= []).push(Math.round(percentile(l.latencies, 99) / 10) / 100);
      errors[name] = (errors[name] ?? 0) + l.errors;
      console.error(
        `origin round ${round + 1}: ${name} ${rounds[name].at(-1)} req/s, ${cpuUs[name].at(-1)} µs server CPU/req, ${loadCpuUs[name].at(-1)} µs load CPU/req`,
      );
    }
  }
  const med = (name: string) => median(rounds[name] ?? []);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const ratio = (name: string) => r3(med(name) / med('nginx'));
  // Each round's ratio pairs runs close in time, so load from elsewhere mostly cancels.
  const roundRatio = (name: string) =>
    r3(median((rounds[name] ?? []).map((v, i) => v / rounds.nginx![i]!)));
  const cpuRatio = (name: string) => r3(median(cpuUs.nginx ?? []) / median(cpuUs[name] ?? []));
  return {
    partBytes: body.length,
    connections: CONNECTIONS,
    seconds: ORIGIN_SECONDS,
    rounds: ORIGIN_ROUNDS,
    rps: rounds,
    p99Ms: p99,
    cpuUsPerRequest: cpuUs,
    loadGeneratorCpuUsPerRequest: loadCpuUs,
    errors,
    neonRps: med('neon'),
    nginxRps: med('nginx'),
    /** Median Neon req/s over median nginx req/s. */
    ratio: ratio('neon'),
    /** Median over rounds of (Neon req/s / nginx req/s of the same round). */
    roundRatio: roundRatio('neon'),
    /** nginx CPU per answer over Neon's (medians): the efficiency ratio. */
    cpuRatio: cpuRatio('neon'),
    ...(gateway
      ? {
          neonGatewayRps: med('neonGateway'),
          gatewayRatio: ratio('neonGateway'),
          gatewayRoundRatio: roundRatio('neonGateway'),
          gatewayCpuRatio: cpuRatio('neonGateway'),
        }
      : {}),
  };
}

async function transcodingIn(work: string) {
  try {
    return await transcoding(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Pins every thread of `pid` to `cpus` (taskset list syntax). */
async function pin(pid: number, cpuList: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpuList, String(pid)]);
}

// ── Main: starts what the items need, runs items 1–4 in order, prints and saves the figures.

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    cores: cpus().length,
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'neon-bench-live-'));
  let neon: Child | null = null;
  let gateway: Child | null = null;
  let nginx: NginxRtmp | null = null;
  let source: ReturnType<typeof startSource> | null = null;
  const page = await servePage();
  try {
    neon = await startChild(
      join(import.meta.dirname, 'live', 'server.ts'),
      {
        DATA_DIR: dataDir,
        INTERNAL_SECRET: SECRET + SECRET,
        RTMP_HOST: '127.0.0.1',
        RTMP_PORT: '0',
        // Keeps the broadcast (and its parts in memory) after the source stops, for the origin run.
        RECONNECT_GRACE_SECONDS: '300',
        LOG_LEVEL: 'warn',
      },
      PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [],
    );
    const base = neon.ready.url!;
    nginx = await startNginxRtmp();
    const streamer = { id: uuidv7(), username: 'bench', roles: ['user' as const] };
    const keyRes = await fetch(`${base}/api/v1/me/stream-key`, {
      headers: clientHeaders(streamer, SECRET + SECRET),
    });
    const { streamKey } = (await keyRes.json()) as StreamKeyResponse;
    const neonIngest = `rtmp://127.0.0.1:${neon.ready.rtmpPort}/live/${streamKey}`;
    if (ONLY === 'origin') {
      source = startSource([neonIngest]);
      await playlistReady(`${base}/hls/bench/master.m3u8`);
      // A few segments' worth of parts to choose from.
      await new Promise((r) => setTimeout(r, 5000));
      source.child.kill('SIGKILL');
    } else {
      source = startSource([neonIngest, `${nginx.rtmpUrl}/bench`]);
      const neonMaster = `${base}/hls/bench/master.m3u8`;
      const nginxPlaylist = `${nginx.httpUrl}/hls/bench.m3u8`;
      await playlistReady(neonMaster);
      await playlistReady(nginxPlaylist);
      console.error('both live; measuring Neon');
      const [neonG2G, avail] = await Promise.all([
        glassToGlass(page.url, neonMaster, LATENCY_SECONDS, source.sentAt),
        availability(`${base}/hls/bench`, LATENCY_SECONDS, source.sentAt),
      ]);
      results.neon = { ...neonG2G, ...avail };
      console.error('measuring nginx-rtmp');
      results.nginxRtmp = await glassToGlass(
        page.url,
        nginxPlaylist,
        LATENCY_SECONDS,
        source.sentAt,
      );

      source.child.kill('SIGKILL');
    }
    // Viewers go through the gateway (its edge cache answers immutable parts from memory).
    gateway = await startChild(join(import.meta.dirname, 'lib', 'gateway-server.ts'), {
      LIVE_URL: base,
      IDENTITY_URL: base,
      BENCH_SECRET: SECRET + SECRET,
      WEB_ROOT: '/nonexistent',
      LOG_LEVEL: 'warn',
    });
    results.origin = await originLoad(
      base,
      nginx,
      { neon: neon.pid, nginx: nginx.pid },
      { url: gateway.ready.url!, pid: gateway.pid },
    );
  } finally {
    page.close();
    if (source) source.child.kill('SIGKILL');
    if (gateway) await gateway.stop();
    if (neon) await neon.stop();
    if (nginx) await nginx.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (ONLY !== 'origin') {
    console.error('measuring transcoding');
    results.transcoding = await transcodingIn(mkdtempSync(join(tmpdir(), 'neon-bench-transcode-')));
  }
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `live-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(JSON.stringify(results, null, 2));
  console.error(`written to ${file}`);
}

await main();
await Promise.all(children.map((c) => stopProcess(c)));
