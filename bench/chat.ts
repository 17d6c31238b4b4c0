// npm run bench:chat — Neon's chat server against a Socket.IO room broadcast
// and a bare `ws` broadcast, each driven by the same lean generator. Servers
// run on core 0, the generator on core 1, everything on loopback.
//   BENCH_CLIENTS (3000) BENCH_SENDERS (20) BENCH_RATE (20) BENCH_SECONDS (20)
//   BENCH_RAMP (comma-separated msg/s) BENCH_RAMP_SECONDS (5) BENCH_SERVERS (neon,socketio,ws)
//   BENCH_CPU_PROF=<dir> (CPU profile of each server process) BENCH_GENERATOR (c; node)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, rssBytes } from './chat/proc.js';
import { waitLine } from './lib/proc.js';

type Kind = 'neon' | 'neon-followers' | 'socketio' | 'ws';
const env = process.env;
const CLIENTS = Number(env.BENCH_CLIENTS ?? 3000);
const SENDERS = Number(env.BENCH_SENDERS ?? 20);
const RATE = Number(env.BENCH_RATE ?? 20);
const SECONDS = Number(env.BENCH_SECONDS ?? 20);
const RAMP = (env.BENCH_RAMP ?? '50,100,150,200,300,400,600,800,1200,1600')
  .split(',')
  .filter((r) => r.trim() !== '')
  .map(Number);
const RAMP_SECONDS = Number(env.BENCH_RAMP_SECONDS ?? 5);
const SERVERS = (env.BENCH_SERVERS ?? 'neon,socketio,ws').split(',') as Kind[];
const P99_LIMIT_MS = 250;
const BODY_BYTES = 100;
const secret = randomBytes(32).toString('base64url');
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

const serverFile: Record<Kind, string> = {
  neon: here('./chat/server-neon.ts'),
  // The same server with the room in followers-only mode, every sender a follower.
  'neon-followers': here('./chat/server-neon.ts'),
  socketio: here('./chat/server-socketio.ts'),
  ws: here('./chat/server-ws.ts'),
};

/** Every child runs pinned to a core, with the fd limit raised to the hard limit. */
function pinned(core: number, command: string, extraEnv: Record<string, string>): ChildProcess {
  const cmd = `ulimit -n $(ulimit -Hn) && exec taskset -c ${core} ${command}`;
  return spawn('sh', ['-c', cmd], {
    env: { ...env, ...extraEnv },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

const node = (file: string, nodeArgs = '') =>
  `"${process.execPath}" --expose-gc ${nodeArgs} --import tsx "${file}"`;

/**
 * The load generator, the same for every server: C on epoll (compiled here,
 * never committed), or with BENCH_GENERATOR=node the TypeScript one. Reading
 * 60,000 frames a second costs either mostly in the kernel; the C one takes
 * 20–30% less of its core and never pauses for garbage collection.
 */
function generatorCommand(): (kind: Kind, port: number) => [string, Record<string, string>] {
  if (env.BENCH_GENERATOR === 'node') {
    return (kind, port) => [
      node(here('./chat/generator.ts')),
      {
        GEN_OPTIONS: JSON.stringify({
          kind,
          port,
          clients: CLIENTS,
          senders: SENDERS,
          secret,
          bodyBytes: BODY_BYTES,
        }),
      },
    ];
  }
  mkdirSync(here('./results'), { recursive: true });
  const bin = here('./results/chat-generator');
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin, here('./chat/generator.c')], {
    stdio: 'inherit',
  });
  return (kind, port) => [
    `"${bin}" ${kind} ${port} ${CLIENTS} ${SENDERS} ${secret} ${BODY_BYTES}`,
    {},
  ];
}
const generator = generatorCommand();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PhaseResult {
  rate: number;
  seconds: number;
  sent: number;
  expected: number;
  delivered: number;
  loss: number;
  p50ms: number;
  p99ms: number;
  receiversConnected: number;
  serverCpuSeconds: number;
  cpuPer1000: number;
  deliveriesPerCpuSecond: number;
  serverCpuShare: number;
  /** Near 100%, the generator (not the server) limits the run. */
  generatorCpuShare: number;
}

interface ServerResult {
  kind: Kind;
  idleBytesPerConnection: number;
  fixed: PhaseResult;
  ramp: PhaseResult[];
  highestCleanRate: number;
}

async function runServer(kind: Kind): Promise<ServerResult> {
  const profile = env.BENCH_CPU_PROF ? `--cpu-prof --cpu-prof-dir="${env.BENCH_CPU_PROF}"` : '';
  const server = pinned(0, node(serverFile[kind], profile), {
    BENCH_SECRET: secret,
    BENCH_SENDERS: String(SENDERS),
    BENCH_FOLLOWERS_ONLY: kind === 'neon-followers' ? '1' : '0',
  });
  const sLines = createInterface({ input: server.stdout! });
  let gen: ChildProcess | null = null;
  try {
    const port = Number(await waitLine(sLines, 'PORT', 180_000));
    // The shell execs node: the pid is the server's own.
    const pid = server.pid!;
    const settledRss = async () => {
      await sleep(1000);
      const done = waitLine(sLines, 'GCDONE', 10_000);
      server.stdin!.write('GC\n');
      await done;
      await sleep(500);
      return rssBytes(pid);
    };
    const baseline = await settledRss();
    gen = pinned(1, ...generator(kind === 'neon-followers' ? 'neon' : kind, port));
    const gLines = createInterface({ input: gen.stdout! });
    await waitLine(gLines, 'READY', 180_000);
    const idleBytesPerConnection = ((await settledRss()) - baseline) / (CLIENTS + SENDERS);

    const phase = async (rate: number, seconds: number): Promise<PhaseResult> => {
      const started = waitLine(gLines, 'PHASE_START', 10_000);
      gen!.stdin!.write(`PHASE ${rate} ${seconds}\n`);
      await started;
      const cpu0 = cpuSeconds(pid);
      const gcpu0 = cpuSeconds(gen!.pid!);
      const t0 = performance.now();
      const r = JSON.parse(
        await waitLine(gLines, 'PHASE_END', (seconds + 20) * 1000),
      ) as PhaseResult;
      const cpu = cpuSeconds(pid) - cpu0;
      const gcpu = cpuSeconds(gen!.pid!) - gcpu0;
      const wall = (performance.now() - t0) / 1000;
      return {
        ...r,
        serverCpuSeconds: cpu,
        cpuPer1000: r.delivered > 0 ? (cpu / r.delivered) * 1000 : NaN,
        deliveriesPerCpuSecond: cpu > 0 ? r.delivered / cpu : NaN,
        serverCpuShare: cpu / wall,
        generatorCpuShare: gcpu / wall,
        p50ms: r.p50ms ?? NaN,
        p99ms: r.p99ms ?? NaN,
      };
    };

    const fixed = await phase(RATE, SECONDS);
    log(kind, 'fixed', fixed);
    const ramp: PhaseResult[] = [];
    let highestCleanRate = 0;
    for (const rate of RAMP) {
      const r = await phase(rate, RAMP_SECONDS);
      ramp.push(r);
      log(kind, 'ramp', r);
      const clean = r.delivered === r.expected && r.p99ms <= P99_LIMIT_MS;
      if (!clean) break;
      highestCleanRate = rate;
    }
    gen.stdin!.write('QUIT\n');
    return { kind, idleBytesPerConnection, fixed, ramp, highestCleanRate };
  } finally {
    gen?.kill('SIGKILL');
    server.kill('SIGTERM');
    // Writing a profile takes a moment after the server's own shutdown.
    await sleep(profile ? 5000 : 500);
    server.kill('SIGKILL');
  }
}

const fmt = (n: number | null, digits: number) =>
  n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);

function log(kind: Kind, what: string, r: PhaseResult): void {
  process.stdout.write(
    `${kind.padEnd(9)} ${what.padEnd(5)} ${String(r.rate).padStart(5)} msg/s  ` +
      `delivered ${r.delivered}/${r.expected} (loss ${(r.loss * 100).toFixed(2)}%)  ` +
      `p50 ${fmt(r.p50ms, 1)} ms  p99 ${fmt(r.p99ms, 1)} ms  ` +
      `server cpu ${fmt(r.serverCpuShare * 100, 0)}%  generator cpu ${fmt(r.generatorCpuShare * 100, 0)}%  ` +
      `${fmt(r.cpuPer1000 * 1000, 3)} ms cpu/1000\n`,
  );
}

const results: ServerResult[] = [];
for (const kind of SERVERS) results.push(await runServer(kind));

const by = (k: Kind) => results.find((r) => r.kind === k);
const sio = by('socketio');
const rows: [string, (r: ServerResult) => number, number][] = [
  ['loss at fixed load (%)', (r) => r.fixed.loss * 100, 2],
  ['p50 latency (ms)', (r) => r.fixed.p50ms, 1],
  ['p99 latency (ms)', (r) => r.fixed.p99ms, 1],
  ['server CPU per 1,000 deliveries (ms)', (r) => r.fixed.cpuPer1000 * 1000, 3],
  ['deliveries per server CPU-second', (r) => r.fixed.deliveriesPerCpuSecond, 0],
  ['idle memory per connection (KiB)', (r) => r.idleBytesPerConnection / 1024, 1],
  ['highest clean rate (msg/s)', (r) => r.highestCleanRate, 0],
];
process.stdout.write(
  `\n${CLIENTS} clients, ${SENDERS} senders, ${RATE} msg/s for ${SECONDS} s; ramp ${RAMP_SECONDS} s steps (clean = no loss, p99 <= ${P99_LIMIT_MS} ms)\n`,
);
process.stdout.write(
  `${'metric'.padEnd(40)}${results.map((r) => r.kind.padStart(12)).join('')}${sio && by('neon') ? '  neon/socketio'.padStart(16) : ''}\n`,
);
for (const [name, f, digits] of rows) {
  const ratio = sio && by('neon') ? f(by('neon')!) / f(sio) : NaN;
  process.stdout.write(
    `${name.padEnd(40)}${results.map((r) => fmt(f(r), digits).padStart(12)).join('')}${Number.isFinite(ratio) ? ratio.toFixed(2).padStart(16) : ''}\n`,
  );
}
// Followers-only on vs off (BENCH_SERVERS=neon,neon-followers,neon-followers,neon alternates
// them): server CPU per 1,000 deliveries at the fixed load, median of each side's runs.
const cpuOf = (k: Kind) =>
  results
    .filter((r) => r.kind === k)
    .map((r) => r.fixed.cpuPer1000 * 1000)
    .sort((a, b) => a - b);
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? NaN;
if (cpuOf('neon').length > 0 && cpuOf('neon-followers').length > 0) {
  const off = cpuOf('neon');
  const on = cpuOf('neon-followers');
  process.stdout.write(
    `\nfollowers-only CPU per 1,000 deliveries (ms): off ${off.map((x) => x.toFixed(3)).join(' ')} ` +
      `(median ${median(off).toFixed(3)}), on ${on.map((x) => x.toFixed(3)).join(' ')} ` +
      `(median ${median(on).toFixed(3)}); on/off ${(median(on) / median(off)).toFixed(3)}\n`,
  );
}
mkdirSync(here('./results'), { recursive: true });
const file = here(`./results/chat-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    { clients: CLIENTS, senders: SENDERS, rate: RATE, seconds: SECONDS, results },
    null,
    2,
  ),
);
process.stdout.write(`\nwritten to ${file}\n`);
