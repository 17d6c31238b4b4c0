// npm run bench:public — what the gateway costs a /public/v1 call with an OAuth token against
// the same call on /api/v1 with a first-party token. See docs/public-api.md.
//
// The gateway runs twice, as configured in production (a token cache) and with the cache off
// (GATEWAY_TOKEN_CACHE_SIZE=0: every request verifies its RS256 signature and claims); each
// request carries the next of BENCH_TOKENS distinct tokens of its kind. Both reach the same
// kit-built upstream, which answers the caller's profile on /api/v1/me and /public/v1/users.
//
// Knobs: BENCH_ROUNDS (5), BENCH_SECONDS per throughput run (3), BENCH_CONNECTIONS (8),
// BENCH_WARMUP_SECONDS per target (8), BENCH_LATENCY_BLOCKS per round (8) of
// BENCH_LATENCY_BLOCK_MS (250), BENCH_TOKENS per kind (500).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ACCESS_TOKEN_TTL_SECONDS, API_AUDIENCE, PUBLIC_API_AUDIENCE } from '@neon/contracts';
import { median, percentile, runLoad } from './lib/load.js';
import { cpuSeconds, startChild, type Child } from './lib/proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 8);
const LATENCY_BLOCKS = Number(process.env.BENCH_LATENCY_BLOCKS ?? 8);
const LATENCY_BLOCK_MS = Number(process.env.BENCH_LATENCY_BLOCK_MS ?? 250);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 500);
const PUBLIC_URL = 'http://localhost:8080';
const SECRET = 'bench-internal-secret-0123456789abcdef';
const USER_ID = '0190f000-0000-7000-8000-000000000001';

/** A first-party call and its public counterpart. */
type Kind = 'api' | 'public';
const PATHS: Record<Kind, string> = { api: '/api/v1/me', public: '/public/v1/users' };
type Mode = 'cached' | 'verifying';

interface Sample {
  p50: number;
  addedP50: number;
  cpuPerReq: number;
  rps: number;
  errors: number;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** As identity signs them: a session's access token, and an OAuth token acting for the user. */
async function sign(
  kind: Kind,
  key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'],
  kid: string,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims =
    kind === 'api'
      ? { username: 'bench', roles: ['user'], sid: randomUUID() }
      : {
          client_id: 'bench-app-client-id0',
          scope: 'user:read:email',
          username: 'bench',
          roles: ['user'],
          sid: randomUUID(),
        };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid, typ: kind === 'api' ? 'JWT' : 'at+jwt' })
    .setIssuer(PUBLIC_URL)
    .setAudience(kind === 'api' ? API_AUDIENCE : PUBLIC_API_AUDIENCE)
    .setSubject(USER_ID)
    .setIssuedAt(now)
    .setExpirationTime(now + ACCESS_TOKEN_TTL_SECONDS)
    .setJti(randomUUID())
    .sign(key);
}

/** Each call takes the next token of the pool: distinct tokens, not one cached answer. */
function rotating(tokens: string[]): () => Record<string, string> {
  let i = 0;
  return () => ({
    authorization: `Bearer ${tokens[i++ % tokens.length]}`,
    accept: 'application/json',
  });
}

async function main(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-key';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const tokens: Record<Kind, string[]> = { api: [], public: [] };
  for (const kind of ['api', 'public'] as const)
    for (let i = 0; i < TOKENS; i++) tokens[kind].push(await sign(kind, privateKey, kid));

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
    const gateways = {} as Record<Mode, Child>;
    for (const mode of ['cached', 'verifying'] as const) {
      gateways[mode] = await startChild('bench/lib/gateway-server.ts', {
        IDENTITY_URL: upstream.ready.url!,
        BENCH_SECRET: SECRET,
        PUBLIC_URL,
        LOG_LEVEL: 'warn',
        WEB_ROOT: '/nonexistent',
        GATEWAY_API_RATE_LIMIT: '1000000000',
        ...(mode === 'verifying' ? { GATEWAY_TOKEN_CACHE_SIZE: '0' } : {}),
      });
      stops.push(gateways[mode].stop);
    }
    const headers = { api: rotating(tokens.api), public: rotating(tokens.public) };
    process.stdout.write(
      `public API benchmark: ${ROUNDS} rounds × {${PATHS.api} with a session token, ${PATHS.public} with an OAuth token} × {token cache on, off}, ${CONNECTIONS} connections × ${SECONDS} s, ${TOKENS} distinct tokens per kind\n`,
    );
    for (const mode of ['cached', 'verifying'] as const)
      for (const kind of ['api', 'public'] as const) {
        const r = await runLoad(
          gateways[mode].ready.url!,
          PATHS[kind],
          headers[kind],
          CONNECTIONS,
          WARMUP_SECONDS * 1000,
        );
        if (r.errors > 0 || r.requests === 0)
          throw new Error(`${mode} ${kind} warm-up failed (${r.errors} errors)`);
      }

    const samples: Record<Mode, Record<Kind, Sample[]>> = {
      cached: { api: [], public: [] },
      verifying: { api: [], public: [] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2
        ? (['verifying', 'cached'] as const)
        : (['cached', 'verifying'] as const)) {
        const gateway = gateways[mode];
        // Latency with one connection, in short blocks alternating the two kinds with a direct
        // call of the same path: each added p50 is against the direct one of its own cycle.
        const added: Record<Kind, number[]> = { api: [], public: [] };
        const p50s: Record<Kind, number[]> = { api: [], public: [] };
        for (let b = 0; b < LATENCY_BLOCKS; b++) {
          const kinds =
            (round + b) % 2 ? (['public', 'api'] as const) : (['api', 'public'] as const);
          for (const kind of kinds) {
            const direct = await runLoad(upstream.ready.url!, PATHS[kind], {}, 1, LATENCY_BLOCK_MS);
            const via = await runLoad(
              gateway.ready.url!,
              PATHS[kind],
              headers[kind],
              1,
              LATENCY_BLOCK_MS,
            );
            if (via.errors > 0 || direct.errors > 0) throw new Error(`${mode} ${kind}: errors`);
            const p50 = percentile(via.latencies, 50);
            p50s[kind].push(p50);
            added[kind].push(p50 - percentile(direct.latencies, 50));
          }
        }
        const kinds = round % 2 ? (['public', 'api'] as const) : (['api', 'public'] as const);
        for (const kind of kinds) {
          const cpu0 = cpuSeconds(gateway.pid);
          const load = await runLoad(
            gateway.ready.url!,
            PATHS[kind],
            headers[kind],
            CONNECTIONS,
            SECONDS * 1000,
          );
          const cpu = cpuSeconds(gateway.pid) - cpu0;
          samples[mode][kind].push({
            p50: median(p50s[kind]),
            addedP50: median(added[kind]),
            cpuPerReq: (cpu * 1e6) / load.requests,
            rps: load.requests / load.seconds,
            errors: load.errors,
          });
        }
      }
      const c = samples.cached;
      const v = samples.verifying;
      process.stdout.write(
        `round ${round + 1}: gateway CPU µs/req api ${fmt(c.api.at(-1)!.cpuPerReq)} public ${fmt(c.public.at(-1)!.cpuPerReq)} (verifying: ${fmt(v.api.at(-1)!.cpuPerReq)} / ${fmt(v.public.at(-1)!.cpuPerReq)}); added p50 µs ${fmt(c.api.at(-1)!.addedP50)} / ${fmt(c.public.at(-1)!.addedP50)} (verifying: ${fmt(v.api.at(-1)!.addedP50)} / ${fmt(v.public.at(-1)!.addedP50)})\n`,
      );
    }

    const errors = (['cached', 'verifying'] as const).reduce(
      (n, m) => n + [...samples[m].api, ...samples[m].public].reduce((k, s) => k + s.errors, 0),
      0,
    );
    const rows: string[][] = [
      ['token cache', 'call', 'req/s', 'p50 µs', 'added p50 µs', 'gateway CPU µs/req'],
    ];
    for (const mode of ['cached', 'verifying'] as const)
      for (const kind of ['api', 'public'] as const) {
        const s = samples[mode][kind];
        rows.push([
          mode === 'cached' ? 'on' : 'off',
          `${PATHS[kind]} (${kind === 'api' ? 'session' : 'OAuth'} token)`,
          fmt(median(s.map((x) => x.rps)), 0),
          fmt(median(s.map((x) => x.p50))),
          fmt(median(s.map((x) => x.addedP50))),
          fmt(median(s.map((x) => x.cpuPerReq))),
        ]);
      }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(
      `\n${rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n\n`,
    );
    /** Paired per round: public over api in the same round and mode. */
    const ratio = (mode: Mode, k: 'cpuPerReq' | 'addedP50') =>
      median(samples[mode].public.map((s, i) => s[k] / samples[mode].api[i]![k]));
    for (const mode of ['cached', 'verifying'] as const)
      process.stdout.write(
        `${mode === 'cached' ? 'token cache on ' : 'token cache off'}: public/api gateway CPU per request ${fmt(ratio(mode, 'cpuPerReq'), 2)}× (goal ≤ 1.1×), added p50 ${fmt(ratio(mode, 'addedP50'), 2)}× (goal ≤ 1.1×)\n`,
      );
    process.stdout.write(`errors: ${errors}\n`);
  } finally {
    await cleanup();
  }
}

await main();
