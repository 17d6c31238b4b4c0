// npm run bench:live — Neon's live pipeline side by side with nginx-rtmp.
//   1. glass-to-glass latency in headless Chromium with hls.js (lowLatencyMode, catch-up)
//   2. part availability latency (frame published → playlist lists its part)
//   3. transcoding CPU-seconds per media-second: one ffmpeg for the ladder vs one per rung
//   4. origin requests/s for a ~75 KB part vs nginx serving the same bytes
//   5. capacity: 720p30 broadcasts started one after another on one replica until it refuses
// Knobs: BENCH_LATENCY_SECONDS (60), BENCH_TRANSCODE_SECONDS (20), BENCH_ORIGIN_SECONDS (10),
// BENCH_CONNECTIONS (32), BENCH_ORIGIN_ROUNDS (3), BENCH_ONLY=origin (just item 4),
// BENCH_ONLY=capacity (just item 5), BENCH_CAPACITY_MAX (8 broadcasts),
// BENCH_CAPACITY_STEP_SECONDS (20), BENCH_CAPACITY_SETTLE_SECONDS (12),
// BENCH_CPU_PROF=<dir> (CPU profile of the Neon process). Results go to bench/results/live-<time>.json.
// Layout: the items live in bench/live/ (latency.ts: 1 and 2, transcoding.ts: 3, origin.ts: 4,
// capacity.ts: 5, source.ts: the synthetic source); this file reads the knobs and runs them in order.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamKeyResponse } from '@neon/contracts';
import { clientHeaders, uuidv7 } from '@neon/kit';
import { startChild, stopProcess, type Child } from './lib/proc.js';
import { capacityRamp } from './live/capacity.js';
import { availability, glassToGlass, playlistReady, servePage } from './live/latency.js';
import { startNginxRtmp, type NginxRtmp } from './live/nginx-rtmp.js';
import { originLoad } from './live/origin.js';
import { children, startSource } from './live/source.js';
import { transcodingIn } from './live/transcoding.js';

const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 60);
const TRANSCODE_SECONDS = Number(process.env.BENCH_TRANSCODE_SECONDS ?? 20);
const ORIGIN_SECONDS = Number(process.env.BENCH_ORIGIN_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ORIGIN_ROUNDS = Number(process.env.BENCH_ORIGIN_ROUNDS ?? 3);
/** `origin`: only the origin comparison (a short publish to fill the parts, then the load). */
const ONLY = process.env.BENCH_ONLY ?? '';
/** A folder for a CPU profile of the Neon server process (`node --cpu-prof`). */
const PROFILE_DIR = process.env.BENCH_CPU_PROF ?? '';
const SECRET = randomBytes(24).toString('base64url');
const CAPACITY = {
  max: Number(process.env.BENCH_CAPACITY_MAX ?? 8),
  stepSeconds: Number(process.env.BENCH_CAPACITY_STEP_SECONDS ?? 20),
  settleSeconds: Number(process.env.BENCH_CAPACITY_SETTLE_SECONDS ?? 12),
};

// ── Main: starts what the items need, runs items 1–4 in order, prints and saves the figures.

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    cores: cpus().length,
  };
  if (ONLY === 'capacity') {
    results.capacity = await capacityRamp(CAPACITY);
    save(results);
    return;
  }
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
      { connections: CONNECTIONS, seconds: ORIGIN_SECONDS, rounds: ORIGIN_ROUNDS },
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
    results.transcoding = await transcodingIn(
      mkdtempSync(join(tmpdir(), 'neon-bench-transcode-')),
      TRANSCODE_SECONDS,
    );
  }
  if (ONLY !== 'origin') {
    console.error('measuring capacity');
    results.capacity = await capacityRamp(CAPACITY);
  }
  save(results);
}

function save(results: Record<string, unknown>): void {
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `live-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(JSON.stringify(results, null, 2));
  console.error(`written to ${file}`);
}

await main();
await Promise.all(children.map((c) => stopProcess(c)));
