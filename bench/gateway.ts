// npm run bench:gateway — our gateway against a direct call, a node floor proxy and nginx, plus
// RS256 verification against `openssl speed`. See apps/gateway/README.md.
//
// Knobs: BENCH_ROUNDS (5), BENCH_SECONDS per throughput run (3),
// BENCH_CONNECTIONS (8), BENCH_VERIFY_SECONDS (3), BENCH_WARMUP_SECONDS per target (15),
// BENCH_LATENCY_BLOCKS per round (8) of BENCH_LATENCY_BLOCK_MS (250) per target,
// BENCH_GATEWAY_LOG_LEVEL (warn; `info` prints the access line of every request),
// BENCH_GATEWAY_NODE_ARGS (node flags for the gateway process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import { execFile } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import { ACCESS_TOKEN_TTL_SECONDS, API_AUDIENCE } from '@neon/contracts';
import { JwksCache, TokenCache, TokenVerifier, type VerifyRules } from '@neon/gateway';
import { createLogger } from '@neon/kit';
import { startNginx, type Nginx } from './lib/nginx.js';
import { median, percentile, runLoad } from './lib/load.js';
import { cpuSeconds, startChild, type Child } from './lib/proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const VERIFY_SECONDS = Number(process.env.BENCH_VERIFY_SECONDS ?? 3);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 15);
const LATENCY_BLOCKS = Number(process.env.BENCH_LATENCY_BLOCKS ?? 8);
const LATENCY_BLOCK_MS = Number(process.env.BENCH_LATENCY_BLOCK_MS ?? 250);
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const PUBLIC_URL = 'http://localhost:8080';
const SECRET = 'bench-internal-secret-0123456789abcdef';
const PATH = '/api/v1/me';

type Target = 'direct' | 'gateway' | 'floor' | 'nginx';
interface Sample {
  rps: number;
  /** Median of the round's per-block p50s (one connection). */
  p50: number;
  p99: number;
  /** Median over the round's blocks of this p50 minus direct's p50 in the same cycle. */
  addedP50: number;
  /** Proxy process CPU per request (µs); the upstream's for `direct`. */
  cpuPerReq: number;
  upstreamCpuPerReq: number;
  errors: number;
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r, j) => {
      const line = r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ');
      return j === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/**
 * Operations per CPU-second of this process (all its threads), the way
 * `openssl speed` divides by CPU time: other load on the machine does not count.
 */
async function perCpuSecond(seconds: number, fn: () => unknown): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
  }
  const cpu = process.cpuUsage(cpu0);
  return n / ((cpu.user + cpu.system) / 1e6);
}

async function opensslVerifyPerSecond(seconds: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    'openssl',
    ['speed', '-seconds', String(seconds), 'rsa2048'],
    {
      maxBuffer: 1 << 20,
    },
  );
  const line = stdout.split('\n').find((l) => /^rsa\s+2048 bits/.test(l.trim()));
  const verify = Number(line?.trim().split(/\s+/).at(-1));
  if (!Number.isFinite(verify)) throw new Error(`cannot read openssl speed output:\n${stdout}`);
  return verify;
}

async function main(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-key';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ username: 'bench', roles: ['user'] })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(PUBLIC_URL)
    .setAudience(API_AUDIENCE)
    .setSubject('0190f000-0000-7000-8000-000000000001')
    .setIssuedAt(now)
    .setExpirationTime(now + ACCESS_TOKEN_TTL_SECONDS)
    .setJti('bench')
    .sign(privateKey);
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };

  const stops: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const upstream: Child = await startChild('bench/lib/upstream-server.ts', {
      BENCH_JWKS: JSON.stringify({ keys: [jwk] }),
      BENCH_SECRET: SECRET,
    });
    stops.push(upstream.stop);
    const gateway: Child = await startChild(
      'bench/lib/gateway-server.ts',
      {
        IDENTITY_URL: upstream.ready.url!,
        BENCH_SECRET: SECRET,
        PUBLIC_URL,
        LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn',
        WEB_ROOT: '/nonexistent',
        GATEWAY_API_RATE_LIMIT: '1000000000',
      },
      GATEWAY_NODE_ARGS,
    );
    stops.push(gateway.stop);
    const floor: Child = await startChild('bench/lib/floor-proxy.ts', {
      BENCH_UPSTREAM: upstream.ready.url!,
    });
    stops.push(floor.stop);
    const nginx: Nginx = await startNginx(upstream.ready.url!);
    stops.push(nginx.stop);

    const targets: Record<Target, { url: string; pid: number }> = {
      direct: { url: upstream.ready.url!, pid: upstream.pid },
      gateway: { url: gateway.ready.url!, pid: gateway.pid },
      floor: { url: floor.ready.url!, pid: floor.pid },
      nginx: { url: nginx.url, pid: nginx.pid },
    };
    process.stdout.write(
      `gateway benchmark: ${ROUNDS} rounds × {direct, gateway, node floor, nginx}, ${CONNECTIONS} connections × ${SECONDS} s, GET ${PATH} with a bearer token\n`,
    );
    for (const t of Object.keys(targets) as Target[]) {
      // Long enough for V8 to optimise the Node processes' hot paths before anything counts.
      const r = await runLoad(targets[t].url, PATH, headers, CONNECTIONS, WARMUP_SECONDS * 1000);
      if (r.errors > 0 || r.requests === 0)
        throw new Error(`${t} warm-up failed (${r.errors} errors)`);
    }

    const samples: Record<Target, Sample[]> = { direct: [], gateway: [], floor: [], nginx: [] };
    const order: Target[] = ['direct', 'gateway', 'floor', 'nginx'];
    for (let round = 0; round < ROUNDS; round++) {
      // Latency with one connection (no queueing), in short blocks that cycle
      // through the four targets: a drift of the machine moves them together,
      // and each target's p50 is compared with direct's from the same cycle.
      const blockP50: Record<Target, number[]> = { direct: [], gateway: [], floor: [], nginx: [] };
      const all: Record<Target, number[]> = { direct: [], gateway: [], floor: [], nginx: [] };
      for (let b = 0; b < LATENCY_BLOCKS; b++) {
        for (const t of rotate(order, round + b)) {
          const lat = await runLoad(targets[t].url, PATH, headers, 1, LATENCY_BLOCK_MS);
          if (lat.errors > 0) throw new Error(`${t}: ${lat.errors} errors`);
          blockP50[t].push(percentile(lat.latencies, 50));
          for (const v of lat.latencies) all[t].push(v);
        }
      }
      // Throughput and CPU with several connections.
      for (const t of rotate(order, round)) {
        const { url, pid } = targets[t];
        const cpu0 = cpuSeconds(pid);
        const up0 = cpuSeconds(upstream.pid);
        const load = await runLoad(url, PATH, headers, CONNECTIONS, SECONDS * 1000);
        const cpu = cpuSeconds(pid) - cpu0;
        const up = cpuSeconds(upstream.pid) - up0;
        samples[t].push({
          rps: load.requests / load.seconds,
          p50: median(blockP50[t]),
          p99: percentile(Float64Array.from(all[t]).sort(), 99),
          addedP50: median(blockP50[t].map((v, i) => v - blockP50.direct[i]!)),
          cpuPerReq: (cpu * 1e6) / load.requests,
          upstreamCpuPerReq: (up * 1e6) / load.requests,
          errors: load.errors,
        });
      }
      const g = samples.gateway.at(-1)!;
      const n = samples.nginx.at(-1)!;
      const d = samples.direct.at(-1)!;
      process.stdout.write(
        `round ${round + 1}: req/s direct ${fmt(d.rps, 0)} gateway ${fmt(g.rps, 0)} nginx ${fmt(n.rps, 0)}; ` +
          `p50 µs ${fmt(d.p50)} / ${fmt(g.p50)} / ${fmt(n.p50)}; CPU µs/req gateway ${fmt(g.cpuPerReq)} floor ${fmt(samples.floor.at(-1)!.cpuPerReq)} nginx ${fmt(n.cpuPerReq)}\n`,
      );
    }

    const med = (t: Target, k: keyof Sample) => median(samples[t].map((s) => s[k]));
    /** Paired per block, then the median per round, then over rounds. */
    const added = (t: Target) => median(samples[t].map((s) => s.addedP50));
    const toNginx = (t: Target) =>
      median(samples[t].map((s, i) => s.cpuPerReq / samples.nginx[i]!.cpuPerReq));
    const addedGateway = added('gateway');
    const cpuRatio = toNginx('gateway');
    const errors = (Object.keys(samples) as Target[]).reduce(
      (n, t) => n + samples[t].reduce((m, s) => m + s.errors, 0),
      0,
    );

    await Promise.all(stops.splice(0).map((s) => s()));

    // RS256 verification, nothing else running.
    const logger = createLogger({ level: 'warn' });
    const jwks = new JwksCache(async () => ({ keys: [jwk] }), { cooldownMs: 5000, logger });
    await jwks.refresh();
    const verifier = new TokenVerifier(jwks);
    const rules: VerifyRules = {
      issuer: PUBLIC_URL,
      audience: API_AUDIENCE,
      maxLifetimeSeconds: ACCESS_TOKEN_TTL_SECONDS,
      leewaySeconds: 60,
    };
    const cache = new TokenCache(10_000, 60);
    cache.set(token, await verifier.verify(token, rules));
    const joseKey = await importJWK(jwk, 'RS256');
    // openssl and node alternate, a few times: load from other work shifts both together.
    const d2 = token.lastIndexOf('.');
    const signed = Buffer.from(token.slice(0, d2), 'latin1');
    const signature = Buffer.from(token.slice(d2 + 1), 'base64url');
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const verifySamples: { openssl: number; raw: number; ours: number }[] = [];
    for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
      verifySamples.push({
        openssl: await opensslVerifyPerSecond(VERIFY_SECONDS),
        // The floor of any node verifier: one crypto.verify on ready Buffers and a KeyObject.
        raw: await perCpuSecond(VERIFY_SECONDS, () =>
          verifySignature('sha256', signed, publicKey, signature),
        ),
        // What the gateway runs on a cache miss for a known key (every token but the first after a rotation).
        ours: await perCpuSecond(VERIFY_SECONDS, () => verifier.verifyKnown(token, rules)),
      });
    }
    const openssl = median(verifySamples.map((v) => v.openssl));
    const raw = median(verifySamples.map((v) => v.raw));
    const ours = median(verifySamples.map((v) => v.ours));
    const oursRatio = median(verifySamples.map((v) => v.ours / v.openssl));
    const rawRatio = median(verifySamples.map((v) => v.raw / v.openssl));
    const jose = await perCpuSecond(VERIFY_SECONDS, () =>
      jwtVerify(token, joseKey, {
        issuer: PUBLIC_URL,
        audience: API_AUDIENCE,
        algorithms: ['RS256'],
      }),
    );
    // Each lookup gets a new string read out of request bytes, as the gateway's
    // does: a reused one would carry V8's cached hash and flat form from the last call.
    const authorization = Buffer.from(`Bearer ${token}`, 'latin1');
    const cached = await perCpuSecond(VERIFY_SECONDS, () => {
      if (!cache.get(authorization.toString('latin1', 7))) throw new Error('cache miss');
    });

    const rows: string[][] = [
      [
        'path',
        'req/s',
        'p50 µs',
        'p99 µs',
        'added p50 µs',
        'proxy CPU µs/req',
        '÷ nginx',
        'upstream CPU µs/req',
      ],
    ];
    const names: Record<Target, string> = {
      direct: 'direct',
      gateway: 'neon gateway',
      floor: 'node http + our upstream client, no rules (floor)',
      nginx: 'nginx 1.22 (1 worker)',
    };
    for (const t of order) {
      rows.push([
        names[t],
        fmt(med(t, 'rps'), 0),
        fmt(med(t, 'p50')),
        fmt(med(t, 'p99')),
        t === 'direct' ? '—' : fmt(added(t)),
        t === 'direct' ? '—' : fmt(med(t, 'cpuPerReq')),
        t === 'direct' ? '—' : fmt(toNginx(t), 2),
        fmt(med(t, 'upstreamCpuPerReq')),
      ]);
    }
    const verifyRows = [
      ['RS256 verify (2048-bit)', 'per CPU-second', 'vs openssl'],
      ['openssl speed rsa2048 verify', fmt(openssl, 0), '1.00'],
      ['node crypto.verify alone (floor)', fmt(raw, 0), fmt(rawRatio, 2)],
      ['gateway verifier (node:crypto)', fmt(ours, 0), fmt(oursRatio, 2)],
      ['jose jwtVerify (WebCrypto)', fmt(jose, 0), fmt(jose / openssl, 2)],
      ['gateway cache hit (token read from bytes)', fmt(cached, 0), fmt(cached / openssl, 2)],
    ];
    const goals = [
      ['goal', 'measured', 'target', 'met'],
      ['gateway CPU/req ÷ nginx CPU/req', fmt(cpuRatio, 2), '≤ 2.00', cpuRatio <= 2 ? 'yes' : 'no'],
      ['added p50 over direct (µs)', fmt(addedGateway), '≤ 80', addedGateway <= 80 ? 'yes' : 'no'],
      ['verifier ÷ openssl', fmt(oursRatio, 2), '≥ 0.65', oursRatio >= 0.65 ? 'yes' : 'no'],
      ['cache ÷ openssl', fmt(cached / openssl, 1), '≥ 10', cached / openssl >= 10 ? 'yes' : 'no'],
    ];
    process.stdout.write(
      `\nMedians over ${ROUNDS} rounds (latency: 1 connection, ${LATENCY_BLOCKS} blocks × ${LATENCY_BLOCK_MS} ms per target per round; req/s and CPU: ${CONNECTIONS} connections; ${errors} errors)\n` +
        `${table(rows)}\n\n${table(verifyRows)}\n\n${table(goals)}\n`,
    );
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/gateway-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(
      file,
      JSON.stringify(
        {
          rounds: ROUNDS,
          seconds: SECONDS,
          connections: CONNECTIONS,
          samples,
          verify: { samples: verifySamples, openssl, raw, ours, jose, cached },
        },
        null,
        2,
      ),
    );
    process.stdout.write(`\nraw samples: ${file}\n`);
  } finally {
    await cleanup();
  }
}

await main();
