// Item 5 of bench:live (see bench/live.ts): broadcasts of the default 720p30 source started one
// after another on one live replica until it refuses a publish. Per step: how many broadcasts
// keep up (transcoder speed, rungs shed, as their owners' dashboards read it), what they cost
// (CPU and RSS of the live and gateway processes and of every ffmpeg child), and how far the
// first broadcast's live edge is behind its publisher, read through the gateway as a player does.
// At the end every publisher stops and each recording's length is compared with what was sent.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StreamKeyResponse, StreamSettings, VideoList } from '@neon/contracts';
import { clientHeaders, uuidv7, type Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { median } from '../lib/load.js';
import { cpuSeconds, startChild, type Child } from '../lib/proc.js';
import { children, FPS } from './source.js';

const run = promisify(execFile);

export interface CapacityKnobs {
  /** Broadcasts at most (the replica may refuse earlier). */
  max: number;
  /** Seconds measured at each step, after the new broadcast is live and has settled. */
  stepSeconds: number;
  /** Seconds a new broadcast settles (the ladder is measured and sheds) before a step is measured. */
  settleSeconds: number;
}

/**
 * The default source of this benchmark (720p30 testsrc2, sine, H.264 ultrafast
 * 2.5 Mb/s, keyframe every second) encoded once to a file: each publisher
 * sends it in a loop without re-encoding, so the publishers (other machines in
 * real life) cost this one next to nothing.
 */
async function encodeClip(dir: string): Promise<string> {
  const clip = join(dir, 'source.flv');
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
    '10',
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
    '-f',
    'flv',
    clip,
  ]);
  return clip;
}

interface Publisher {
  child: ChildProcess;
  /** Media seconds sent so far (ffmpeg's own progress). */
  sentSeconds: () => number;
  exited: Promise<number | null>;
}

function publish(clip: string, url: string): Publisher {
  const child = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      clip,
      '-c',
      'copy',
      '-progress',
      'pipe:1',
      '-f',
      'flv',
      url,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  children.push(child);
  let sent = 0;
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      const m = /^out_time_us=(\d+)/.exec(l);
      if (m) sent = Number(m[1]) / 1e6;
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, sentSeconds: () => sent, exited };
}

/** The ffmpeg children of the live process: pid, RSS (kB) and whether it transcodes (x264). */
async function ffmpegChildren(parent: number) {
  const { stdout } = await run('ps', ['-o', 'pid=,rss=,args=', '--ppid', String(parent)]).catch(
    () => ({ stdout: '' }),
  );
  return stdout
    .split('\n')
    .filter((l) => l.includes('ffmpeg'))
    .map((l) => {
      const [pid, rss] = l.trim().split(/\s+/);
      return { pid: Number(pid), rssKb: Number(rss), ladder: l.includes('libx264') };
    });
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function cpuOf(pid: number): number | null {
  try {
    return cpuSeconds(pid);
  } catch {
    return null;
  }
}

/**
 * Blocking reloads of a rendition's playlist through the gateway for `seconds`:
 * for each new part, when it was listed against when its last frame reached
 * ingest (its EXT-X-PROGRAM-DATE-TIME plus the parts before it and its own
 * length), plus the part hold-back a low-latency player keeps: the latency of
 * a player at the live edge. Ingest is on loopback, so arrival is when the
 * publisher sent it.
 */
async function edgeDelays(playlistUrl: string, seconds: number): Promise<number[]> {
  const delays: number[] = [];
  const seen = new Set<string>();
  const deadline = Date.now() + seconds * 1000;
  let query = '';
  while (Date.now() < deadline) {
    let text: string;
    try {
      const res = await fetch(`${playlistUrl}${query}`, { signal: AbortSignal.timeout(10_000) });
      text = await res.text();
      if (res.status !== 200) {
        query = '';
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
    } catch {
      query = '';
      continue;
    }
    const listedAt = Date.now();
    // The first answer lists parts produced before we asked: only later ones count.
    const first = query === '';
    // A player keeps this far behind the newest part (LL-HLS PART-HOLD-BACK): part of its latency.
    const holdBack = Number(/PART-HOLD-BACK=([\d.]+)/.exec(text)?.[1] ?? 0) * 1000;
    let pdt = 0;
    let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
    let part = -1;
    let newest: { msn: number; part: number } | null = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
        pdt = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
      } else if (line.startsWith('#EXT-X-PART:')) {
        part++;
        const duration = Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? 0) * 1000;
        const uri = /URI="([^"]+)"/.exec(line)?.[1] ?? '';
        if (!seen.has(uri)) {
          seen.add(uri);
          if (!first) delays.push((listedAt - (pdt + duration) + holdBack) / 1000);
        }
        pdt += duration;
        newest = { msn, part };
      } else if (line.startsWith('#EXTINF:')) {
        msn++;
        part = -1;
      }
    }
    query = newest ? `?_HLS_msn=${newest.msn}&_HLS_part=${newest.part + 1}` : '';
  }
  return delays;
}

function vodSeconds(playlist: string): number {
  return [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export interface CapacityStep {
  broadcasts: number;
  /** Broadcasts whose transcoder keeps up (dashboard speed ≥ 0.9) at the end of the step. */
  atRealTime: number;
  speeds: (number | null)[];
  shedRungs: string[][];
  /** The first broadcast's player latency behind its publisher, through the gateway (160p, see edgeDelays). */
  firstLatencySeconds: { n: number; p50: number; p95: number };
  /** That p50 against the one measured with the first broadcast alone. */
  firstVsSolo: number;
  cores: { live: number; gateway: number; ladders: number; recordings: number; total: number };
  coresPerBroadcast: number;
  rssMb: { live: number; gateway: number; ffmpegEach: number[] };
  replicaFullAfter: boolean;
}

export async function capacityRamp(knobs: CapacityKnobs) {
  const work = mkdtempSync(join(tmpdir(), 'neon-bench-capacity-'));
  const secret = randomBytes(32).toString('base64url');
  let live: Child | null = null;
  let gateway: Child | null = null;
  const publishers: Publisher[] = [];
  try {
    const clip = await encodeClip(work);
    live = await startChild(join(import.meta.dirname, 'server.ts'), {
      DATA_DIR: join(work, 'data'),
      INTERNAL_SECRET: secret,
      RTMP_HOST: '127.0.0.1',
      RTMP_PORT: '0',
      // Each publisher stops for good at the end: end its broadcast straight away.
      RECONNECT_GRACE_SECONDS: '1',
      LOG_LEVEL: 'warn',
    });
    gateway = await startChild(join(import.meta.dirname, '..', 'lib', 'gateway-server.ts'), {
      LIVE_URL: live.ready.url!,
      IDENTITY_URL: live.ready.url!,
      BENCH_SECRET: secret,
      WEB_ROOT: '/nonexistent',
      LOG_LEVEL: 'warn',
    });
    const liveUrl = live.ready.url!;
    const edge = gateway.ready.url!;
    const users: Client[] = [];
    const steps: CapacityStep[] = [];
    let soloP50 = NaN;
    let refusedAt: number | null = null;
    const settings = async (u: Client) =>
      (await (
        await fetch(`${liveUrl}/api/v1/me/stream`, { headers: clientHeaders(u, secret) })
      ).json()) as StreamSettings;

    for (let n = 1; n <= knobs.max; n++) {
      const user: Client = { id: uuidv7(), username: `cap${n}`, roles: ['user'] };
      const key = (await (
        await fetch(`${liveUrl}/api/v1/me/stream-key`, { headers: clientHeaders(user, secret) })
      ).json()) as StreamKeyResponse;
      const ready = await fetch(`${liveUrl}/readyz`);
      const readyText = await ready.text();
      const p = publish(clip, `rtmp://127.0.0.1:${live.ready.rtmpPort}/live/${key.streamKey}`);
      const outcome = await Promise.race([
        p.exited.then(() => 'refused' as const),
        waitFor(
          async () => {
            const r = await fetch(`${edge}/hls/${user.username}/master.m3u8`);
            await r.arrayBuffer();
            return r.status === 200;
          },
          { timeoutMs: 60_000, intervalMs: 250, what: `broadcast ${n} live` },
        ).then(() => 'live' as const),
      ]);
      if (outcome === 'refused') {
        refusedAt = n;
        console.error(`broadcast ${n} refused (readyz before it: ${ready.status} ${readyText})`);
        break;
      }
      publishers.push(p);
      users.push(user);
      console.error(`broadcast ${n} live; settling ${knobs.settleSeconds} s`);
      await new Promise((r) => setTimeout(r, knobs.settleSeconds * 1000));

      const procs = await ffmpegChildren(live.pid);
      const pids = [live.pid, gateway.pid, ...procs.map((x) => x.pid)];
      const before = new Map(pids.map((pid) => [pid, cpuOf(pid)]));
      const t0 = performance.now();
      const delays = await edgeDelays(
        `${edge}/hls/${users[0]!.username}/160p/index.m3u8`,
        knobs.stepSeconds,
      );
      const wall = (performance.now() - t0) / 1000;
      const coresOf = (pid: number) => {
        const a = before.get(pid);
        const b = cpuOf(pid);
        return a == null || b === null ? 0 : (b - a) / wall;
      };
      const health = await Promise.all(users.map(async (u) => (await settings(u)).ingest?.health));
      const ladders = procs.filter((x) => x.ladder).reduce((a, x) => a + coresOf(x.pid), 0);
      const recordings = procs.filter((x) => !x.ladder).reduce((a, x) => a + coresOf(x.pid), 0);
      const cores = {
        live: r2(coresOf(live.pid)),
        gateway: r2(coresOf(gateway.pid)),
        ladders: r2(ladders),
        recordings: r2(recordings),
        total: 0,
      };
      cores.total = r2(cores.live + cores.gateway + ladders + recordings);
      const sorted = [...delays].sort((a, b) => a - b);
      const p50 = median(sorted);
      if (n === 1) soloP50 = p50;
      const step: CapacityStep = {
        broadcasts: n,
        atRealTime: health.filter((h) => h?.speed != null && h.speed >= 0.9).length,
        speeds: health.map((h) => h?.speed ?? null),
        shedRungs: health.map((h) => h?.droppedRungs ?? []),
        firstLatencySeconds: {
          n: sorted.length,
          p50: r2(p50),
          p95: r2(sorted[Math.floor(sorted.length * 0.95)] ?? NaN),
        },
        firstVsSolo: r2(p50 / soloP50),
        cores,
        coresPerBroadcast: r2(cores.total / n),
        rssMb: {
          live: r2(rssKb(live.pid) / 1024),
          gateway: r2(rssKb(gateway.pid) / 1024),
          ffmpegEach: procs.map((x) => r2(rssKb(x.pid) / 1024)),
        },
        replicaFullAfter: (await fetch(`${liveUrl}/readyz`)).status === 503,
      };
      steps.push(step);
      console.error(JSON.stringify(step));
    }

    // Every publisher stops (ffmpeg closes its RTMP stream); each recording must hold what it sent.
    const sent: number[] = [];
    await Promise.all(
      publishers.map(async (p) => {
        p.child.kill('SIGINT');
        await p.exited;
      }),
    );
    for (const p of publishers) sent.push(p.sentSeconds());
    const recordings: { channel: string; sentSeconds: number; vodSeconds: number }[] = [];
    for (const [i, u] of users.entries()) {
      const video = await waitFor(
        async () => {
          const list = (await (
            await fetch(`${liveUrl}/api/v1/channels/${u.username}/videos`)
          ).json()) as VideoList;
          const v = list.items[0];
          return v ?? false;
        },
        { timeoutMs: 180_000, intervalMs: 1000, what: `the recording of ${u.username}` },
      );
      const master = await (await fetch(`${edge}/vod/${video.id}/master.m3u8`)).text();
      const variants = master.split('\n').filter((l) => l.endsWith('.m3u8'));
      let longest = 0;
      for (const v of variants)
        longest = Math.max(
          longest,
          vodSeconds(await (await fetch(`${edge}/vod/${video.id}/${v}`)).text()),
        );
      recordings.push({ channel: u.username, sentSeconds: r2(sent[i]!), vodSeconds: r2(longest) });
    }
    const last = steps.at(-1);
    return {
      cores: cpus().length,
      refusedAt,
      steps,
      summary: {
        /** Most broadcasts at which every one kept up. */
        allAtRealTime: Math.max(
          0,
          ...steps.filter((s) => s.atRealTime === s.broadcasts).map((s) => s.broadcasts),
        ),
        admitted: last?.broadcasts ?? 0,
        soloLatencyP50: r2(soloP50),
        worstFirstVsSolo: Math.max(...steps.map((s) => s.firstVsSolo)),
        coresPerBroadcastMedian: r2(
          median(steps.map((s) => s.coresPerBroadcast).sort((a, b) => a - b)),
        ),
        shortestRecordingVsSent: r2(
          Math.min(...recordings.map((x) => x.vodSeconds / Math.max(0.001, x.sentSeconds))),
        ),
      },
      recordings,
    };
  } finally {
    for (const p of publishers) p.child.kill('SIGKILL');
    if (gateway) await gateway.stop();
    if (live) await live.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
