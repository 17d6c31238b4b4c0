// Item 4 of bench:live (see bench/live.ts): origin throughput for one ~75 KB part, from Neon's
// origin, through the gateway, and from nginx.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@neon/testing';
import { median, percentile, runLoad } from '../lib/load.js';
import { cpuSeconds } from '../lib/proc.js';
import type { NginxRtmp } from './nginx-rtmp.js';

const run = promisify(execFile);

/** The load each target gets: `connections` for `seconds`, `rounds` times, alternating. */
export interface OriginLoad {
  connections: number;
  seconds: number;
  rounds: number;
}

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
export async function originLoad(
  base: string,
  nginx: NginxRtmp,
  servers: { neon: number; nginx: number },
  load: OriginLoad,
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
    return await measureOrigin(base, nginx, servers, load, uri, body, gateway);
  } finally {
    if (pinned) for (const pid of [...pids, process.pid]) await pin(pid, all).catch(() => {});
  }
}

async function measureOrigin(
  base: string,
  nginx: NginxRtmp,
  servers: { neon: number; nginx: number },
  { connections, seconds, rounds: roundCount }: OriginLoad,
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
  for (const [, origin, p] of targets) await runLoad(origin, p, {}, connections, 1000);
  for (let round = 0; round < roundCount; round++) {
    for (const [name, origin, p, pids] of targets) {
      const cpu0 = cpuOf(pids);
      const own0 = process.cpuUsage();
      const l = await runLoad(origin, p, {}, connections, seconds * 1000);
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
    connections: connections,
    seconds: seconds,
    rounds: roundCount,
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

/** Pins every thread of `pid` to `cpus` (taskset list syntax). */
async function pin(pid: number, cpuList: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpuList, String(pid)]);
}
