// npm run bench:public — what the gateway costs a /public/v1 call with an OAuth token against
// the same call on /api/v1 with a first-party token; then what a webhook delivery costs Neon
// against a bare undici loop. See docs/public-api.md.
//
// ## The gateway half
//
// The gateway runs twice, as configured in production (a token cache) and with the cache off
// (GATEWAY_TOKEN_CACHE_SIZE=0: every request verifies its RS256 signature and claims); each
// request carries the next of BENCH_TOKENS distinct tokens of its kind. Both reach the same
// kit-built upstream, which answers the caller's profile on /api/v1/me and /public/v1/users.
//
// Knobs: BENCH_ROUNDS (5), BENCH_SECONDS per throughput run (2), BENCH_CONNECTIONS (8),
// BENCH_WARMUP_SECONDS per target (4), BENCH_LATENCY_BLOCKS per round (6) of
// BENCH_LATENCY_BLOCK_MS (250), BENCH_TOKENS per kind (500).
//
// ## The webhook half
//
// Webhook deliveries per CPU-second, with signing, against a bare undici loop POSTing to the
// same receiver (goal ≥ 0.7×). The receiver (lib/webhook-receiver.ts) is the application's
// server, in a process of its own whose CPU counts for neither side: it answers at once and
// echoes a verification's challenge.
//
// Neon (lib/webhook-neon.ts): the channels service on the embedded shape's platform (PGlite in a
// data directory, the in-process bus), alone in its process: every CPU-second of it counts,
// PGlite's included. Setup makes BENCH_WEBHOOK_SUBSCRIPTIONS stream.online subscriptions through
// the public route, to http://localhost:<port>/hook/<i>, verified by the service's own worker.
// Each round queues BENCH_WEBHOOK_EVENTS go-lives for that broadcaster (all but the last in one
// transaction with enqueueFeedEvent, the last published on the bus, whose consumer queues it and
// wakes the worker), so events × subscriptions messages, and times the worker from the commit
// until the queue is empty: claimed with SKIP LOCKED, signed, the callback's address checked and
// connected to, settled in the database, 16 at once (the worker's default).
//
// The peer (lib/webhook-undici.ts): undici's `request` with its global dispatcher (keep-alive),
// 16 at once, each message serialised, signed with HMAC-SHA256 and sent with the same headers.
//
// Three more senders say where the difference goes (see the webhook half below): undici with a
// connection per message (`reset`), and Neon's DeliveryWorker with its queue in memory instead
// of the database, its callbacks by name (a lookup per attempt, as in the product) and by IP
// address (none). Each round runs the five in turn, every other round in reverse order; each
// sender's CPU is its own process's (user + system), and the ratios are per round.
//
// Knobs: BENCH_WEBHOOK_ROUNDS (5), BENCH_WEBHOOK_SUBSCRIPTIONS (20), BENCH_WEBHOOK_EVENTS (50).
// BENCH_ONLY=gateway or webhook runs one half.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { ACCESS_TOKEN_TTL_SECONDS, API_AUDIENCE, PUBLIC_API_AUDIENCE } from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { ask } from './lib/ipc.js';
import { median, percentile, runLoad } from './lib/load.js';
import { cpuSeconds, startChild, type Child } from './lib/proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 4);
const LATENCY_BLOCKS = Number(process.env.BENCH_LATENCY_BLOCKS ?? 6);
const LATENCY_BLOCK_MS = Number(process.env.BENCH_LATENCY_BLOCK_MS ?? 250);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 500);
const WEBHOOK_ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 5);
const WEBHOOK_SUBSCRIPTIONS = Number(process.env.BENCH_WEBHOOK_SUBSCRIPTIONS ?? 20);
const WEBHOOK_EVENTS = Math.max(2, Number(process.env.BENCH_WEBHOOK_EVENTS ?? 50));
/** The worker's default, which its config does not change. */
const WEBHOOK_CONCURRENCY = 16;
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

/** What each half started, stopped when it ends (or on ^C). */
const stops: (() => Promise<void>)[] = [];
async function cleanup(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function gatewayHalf(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-key';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const tokens: Record<Kind, string[]> = { api: [], public: [] };
  for (const kind of ['api', 'public'] as const)
    for (let i = 0; i < TOKENS; i++) tokens[kind].push(await sign(kind, privateKey, kid));

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

// ---- the webhook half
//
// What the difference is made of (each part is measured and printed, not estimated):
// - A connection per attempt, by design. The worker resolves the callback's name at every
//   attempt, checks every address it resolves to (private ranges, metadata, rebinding) and
//   connects to the one it checked (postWebhook, agent: false), so no connection is reused;
//   undici keeps its 16 alive. TCP setup and teardown on both ends, and the lookup (getaddrinfo
//   in libuv's pool), are paid per message. undici without keep-alive shows that cost alone.
//   Node's http client with agent: false costs less per connection than undici with `reset`,
//   so the next part, Neon's worker and sender against that undici, can come out negative.
// - The database. The worker claims for half its slots at once (a CTE: SELECT … FOR UPDATE
//   SKIP LOCKED, an UPDATE, a join) and settles what was delivered in one statement per batch
//   (DELETE the messages, clear failing_since on subscriptions that were failing), on PGlite,
//   which runs in this process's thread and answers one statement at a time.
// While every attempt opens its own connection the goal (≥ 0.7× undici with keep-alive) is out
// of reach even with no database at all: the worker with its queue in memory shows it.

type Sender = 'neon' | 'undici' | 'undiciClose' | 'worker' | 'workerIp';
/** In the order of a round; every other round takes it backwards. */
const SENDERS: Sender[] = ['neon', 'undici', 'undiciClose', 'worker', 'workerIp'];
const SENDER_NAMES: Record<Sender, string> = {
  neon: 'Neon: channels worker + PGlite',
  undici: 'undici request, keep-alive',
  undiciClose: 'undici, a connection per message',
  worker: 'Neon worker, queue in memory',
  workerIp: 'Neon worker, queue in memory, IP callback',
};

interface Run {
  cpuUs: number;
  wallMs: number;
  errors: number;
  /** Neon's: what the service asked of PGlite. */
  statements?: number;
  transactions?: number;
  claims?: number;
}
interface Delivery {
  perCpuSecond: number;
  perSecond: number;
  cpuUsPerDelivery: number;
  errors: number;
}

interface ReceiverCounts {
  notifications: number;
  verifications: number;
  other: number;
  checked: number;
  badSignatures: number;
}

async function webhookHalf(): Promise<void> {
  const deliveries = WEBHOOK_SUBSCRIPTIONS * WEBHOOK_EVENTS;
  const secret = randomBytes(24).toString('base64url');
  try {
    const receiver = await startChild('bench/lib/webhook-receiver.ts', {
      BENCH_WEBHOOK_SECRET: secret,
    });
    stops.push(receiver.stop);
    // By name, as an application's callback is: Neon resolves and checks it at every attempt.
    const callback = `http://localhost:${receiver.ready.port}`;
    const counts = async (): Promise<ReceiverCounts> => {
      const res = await request(`${receiver.ready.url}/_bench/count`);
      return (await res.body.json()) as ReceiverCounts;
    };
    const neon = await startChild(
      'bench/lib/webhook-neon.ts',
      {
        BENCH_WEBHOOK_CALLBACK: callback,
        BENCH_WEBHOOK_SECRET: secret,
        BENCH_WEBHOOK_SUBSCRIPTIONS: String(WEBHOOK_SUBSCRIPTIONS),
      },
      [],
      { ipc: true },
    );
    stops.push(neon.stop);
    const undici = await startChild('bench/lib/webhook-undici.ts', {}, [], { ipc: true });
    stops.push(undici.stop);

    const queueUs: number[] = [];
    const database: Required<Pick<Run, 'statements' | 'transactions' | 'claims'>>[] = [];
    /** One sender's run of `deliveries` messages; a count off at the receiver is an error. */
    const run = async (sender: Sender): Promise<Delivery> => {
      const before = (await counts()).notifications;
      let r: Run;
      if (sender === 'neon') {
        const queued = await ask<{ queueUs: number }>(neon.process, 'queue', {
          events: WEBHOOK_EVENTS,
        });
        queueUs.push(queued.queueUs / ((WEBHOOK_EVENTS - 1) * WEBHOOK_SUBSCRIPTIONS));
        // Polled from here: nothing in Neon's process watches for the end.
        await waitFor(async () => (await counts()).notifications >= before + deliveries, {
          what: 'every webhook at the receiver',
          timeoutMs: 120_000,
          intervalMs: 10,
        });
        r = await ask<Run>(neon.process, 'settle');
        database.push({
          statements: r.statements! / deliveries,
          transactions: r.transactions! / deliveries,
          claims: r.claims! / deliveries,
        });
      } else if (sender === 'worker' || sender === 'workerIp')
        r = await ask<Run>(neon.process, 'bare', {
          count: deliveries,
          literal: sender === 'workerIp',
        });
      else
        r = await ask<Run>(undici.process, 'run', {
          count: deliveries,
          concurrency: WEBHOOK_CONCURRENCY,
          keepAlive: sender === 'undici',
        });
      // Neon's failed attempts are retried until they are taken; the others' are not.
      const expected = sender === 'neon' ? deliveries : deliveries - r.errors;
      const got = (await counts()).notifications - before;
      return {
        perCpuSecond: deliveries / (r.cpuUs / 1e6),
        perSecond: deliveries / (r.wallMs / 1000),
        cpuUsPerDelivery: r.cpuUs / deliveries,
        errors: r.errors + Math.abs(expected - got),
      };
    };

    process.stdout.write(
      `\nwebhook benchmark: ${WEBHOOK_ROUNDS} rounds × ${WEBHOOK_EVENTS} stream.online events × ${WEBHOOK_SUBSCRIPTIONS} subscriptions = ${deliveries} signed deliveries per sender, ${WEBHOOK_CONCURRENCY} at once, to one receiver; Neon against undici's request with keep-alive\n`,
    );
    // Warm-up: the first run of each, and what the undici loop is to send (Neon's messages).
    await run('neon');
    await ask(undici.process, 'setup', {
      origin: callback,
      ...(await ask<object>(neon.process, 'subscriptions')),
    });
    for (const sender of SENDERS.slice(1)) await run(sender);
    queueUs.length = 0;
    database.length = 0;

    const samples = Object.fromEntries(SENDERS.map((s) => [s, [] as Delivery[]])) as Record<
      Sender,
      Delivery[]
    >;
    for (let round = 0; round < WEBHOOK_ROUNDS; round++) {
      for (const sender of round % 2 ? [...SENDERS].reverse() : SENDERS)
        samples[sender].push(await run(sender));
      const last = (s: Sender) => samples[s].at(-1)!;
      process.stdout.write(
        `round ${round + 1}: deliveries per CPU-second Neon ${fmt(last('neon').perCpuSecond, 0)}, undici ${fmt(last('undici').perCpuSecond, 0)} (${fmt(last('neon').perCpuSecond / last('undici').perCpuSecond, 2)}×); undici without keep-alive ${fmt(last('undiciClose').perCpuSecond, 0)}; Neon's worker without its database ${fmt(last('worker').perCpuSecond, 0)} (IP callback ${fmt(last('workerIp').perCpuSecond, 0)}); per wall second Neon ${fmt(last('neon').perSecond, 0)}, undici ${fmt(last('undici').perSecond, 0)}\n`,
      );
    }

    const rows: string[][] = [['sender', 'deliveries/CPU-s', 'deliveries/s', 'CPU µs/delivery']];
    for (const sender of SENDERS) {
      const s = samples[sender];
      rows.push([
        SENDER_NAMES[sender],
        fmt(median(s.map((x) => x.perCpuSecond)), 0),
        fmt(median(s.map((x) => x.perSecond)), 0),
        fmt(median(s.map((x) => x.cpuUsPerDelivery))),
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(
      `\n${rows.map((r) => r.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n\n`,
    );
    /** Paired per round. */
    const perRound = (f: (i: number) => number) =>
      median(Array.from({ length: WEBHOOK_ROUNDS }, (_, i) => f(i)));
    const at = (s: Sender, i: number) => samples[s][i]!;
    process.stdout.write(
      `Neon/undici deliveries per CPU-second ${fmt(
        perRound((i) => at('neon', i).perCpuSecond / at('undici', i).perCpuSecond),
        2,
      )}× (goal ≥ 0.7×), per wall second ${fmt(
        perRound((i) => at('neon', i).perSecond / at('undici', i).perSecond),
        2,
      )}×\n`,
    );
    const cpu = (s: Sender, i: number) => at(s, i).cpuUsPerDelivery;
    const gap = perRound((i) => cpu('neon', i) - cpu('undici', i));
    const part = (what: string, f: (i: number) => number, indent = '') => {
      const us = perRound(f);
      process.stdout.write(
        `${indent}  ${fmt(us).padStart(7)} µs  ${fmt((100 * us) / gap, 0).padStart(3)}%  ${what}\n`,
      );
    };
    process.stdout.write(
      `Neon's extra CPU per delivery over undici: ${fmt(gap)} µs, made of (medians of per-round differences; they need not add up exactly):\n`,
    );
    part(
      'a connection per message (undici without keep-alive)',
      (i) => cpu('undiciClose', i) - cpu('undici', i),
    );
    part(
      "Neon's worker and sender instead of undici, both a connection per message",
      (i) => cpu('worker', i) - cpu('undiciClose', i),
    );
    part(
      "of which the callback's name looked up and checked at every attempt",
      (i) => cpu('worker', i) - cpu('workerIp', i),
      '  ',
    );
    part(
      'the database: claims and settling, in batches (PGlite)',
      (i) => cpu('neon', i) - cpu('worker', i),
    );
    const per = (k: 'statements' | 'transactions' | 'claims') =>
      fmt(median(database.map((d) => d[k])), 2);
    process.stdout.write(
      `Neon's database work per delivery: ${per('claims')} claims, ${per('transactions')} transactions, ${per('statements')} statements besides BEGIN and COMMIT\n`,
    );
    process.stdout.write(
      `queueing (not in the figures above): ${fmt(median(queueUs))} µs CPU per message (${WEBHOOK_EVENTS - 1} events in one transaction)\n`,
    );
    const received = await counts();
    const errors = SENDERS.reduce((n, s) => n + samples[s].reduce((k, x) => k + x.errors, 0), 0);
    process.stdout.write(
      `errors: ${errors + received.badSignatures + received.other} (signatures checked at the receiver: ${received.checked}, bad: ${received.badSignatures})\n`,
    );
  } finally {
    await cleanup();
  }
}

const ONLY = process.env.BENCH_ONLY;
if (ONLY !== 'webhook') await gatewayHalf();
if (ONLY !== 'gateway') await webhookHalf();
