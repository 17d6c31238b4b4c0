// npm run bench:notify — the go-live peak, on PostgreSQL + NATS JetStream: a channel with
// BENCH_FOLLOWERS (100,000) followers goes live while BENCH_CONNECTED (8,000) of them hold open
// SSE notification streams, spread over two notify replicas (each its own database pool and
// NATS connection, sharing the consumer groups). Per round: the time from the
// live.stream.started.v1 publish until 50/99/100% of the connected followers received the
// push, and until every follower's row is stored. Two fan-outs alternate round by round:
//   paged  NOTIFY_FANOUT_PAGE_SIZE=BENCH_PAGE (5000): pages queued in the outbox, shared by replicas
//   single NOTIFY_FANOUT_PAGE_SIZE above the follower count: one INSERT ... SELECT in the event's tx
// Medians over BENCH_ROUNDS (3) rounds each, and the paged/single ratio.
// The streams are opened on the replicas' own ports with the identity headers the gateway would
// add (not through the gateway); the clients run in this process alongside both replicas.
// Knobs: BENCH_FOLLOWERS, BENCH_CONNECTED, BENCH_PAGE, BENCH_ROUNDS, BENCH_DATABASE_URL (or
// TEST_DATABASE_URL), BENCH_NATS_URL (or TEST_NATS_URL). Results: bench/results/notify-<time>.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JetStreamBus, type Bus } from '@neon/bus';
import { createPostgresDb, type Db } from '@neon/db';
import { clientHeaders, createLogger, loadConfig, uuidv7 } from '@neon/kit';
import type { Platform, Service } from '@neon/platform';
import { createTestDatabase, deleteStream, uniqueName } from '@neon/testing';
import { buildApp } from '../apps/notify/src/app.js';
import { notifySpec } from '../apps/notify/src/config.js';

const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 100_000);
// Clients and replicas share this process: each stream costs two descriptors, so 8,000 fit
// under a 20,000 open-file limit (the 10,000 needs the clients in a process of their own).
const CONNECTED = Number(process.env.BENCH_CONNECTED ?? 8000);
const PAGE = Number(process.env.BENCH_PAGE ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const NATS_URL = process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL;
const ROUND_TIMEOUT_MS = 180_000;
if (!DATABASE_URL || !NATS_URL) {
  console.error('Set BENCH_DATABASE_URL and BENCH_NATS_URL (or TEST_DATABASE_URL, TEST_NATS_URL).');
  process.exit(2);
}

const CHANNEL = { id: uuidv7(), username: 'bigchannel' };
const secret = randomBytes(32).toString('base64url');
const userId = (i: number) => `bench-user-${String(i).padStart(7, '0')}`;

interface Replica {
  app: Service;
  url: string;
  bus: Bus;
  db: Db;
}

async function startReplica(dbUrl: string, namespace: string, pageSize: number): Promise<Replica> {
  const db = createPostgresDb({ url: dbUrl, max: 10 });
  const bus = await JetStreamBus.connect({ url: NATS_URL!, producer: 'notify', namespace });
  const platform: Platform = {
    shape: 'distributed',
    logger: createLogger({ level: 'error' }),
    db,
    bus,
    redis: null,
    internalSecret: secret,
    dataDir: '/nonexistent',
    publicUrl: 'http://localhost:8080',
  };
  const app = await buildApp(
    platform,
    loadConfig(notifySpec, {
      NOTIFY_FANOUT_PAGE_SIZE: String(pageSize),
      NOTIFY_STREAM_BUFFER_BYTES: String(1 << 20),
    }),
  );
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  await app.start?.();
  const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
  return { app, url, bus, db };
}

async function stopReplica(r: Replica): Promise<void> {
  await r.app.server.close();
  await r.app.close();
  await r.bus.close();
  await r.db.close();
}

interface Streams {
  /** ms after `t0` when each stream saw its first notification (NaN until then). */
  arrivals: Float64Array;
  t0: number;
  /** Streams that failed (refused or reset) after opening. */
  errors: number;
  close(): void;
}

/** Opens one SSE stream per connected follower, alternating between the replicas. */
async function openStreams(replicas: Replica[]): Promise<Streams> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: ClientRequest[] = [];
  const s: Streams = {
    arrivals: new Float64Array(CONNECTED).fill(NaN),
    t0: 0,
    errors: 0,
    close: () => {
      for (const r of requests) r.destroy();
      agent.destroy();
    },
  };
  const openOne = (i: number, replica: Replica) =>
    new Promise<void>((resolve, reject) => {
      // Every tenth follower holds a stream: the connected ones are spread over the id range.
      const id = userId(i * Math.floor(FOLLOWERS / CONNECTED));
      const req = request(
        `${replica.url}/api/v1/notifications/stream`,
        {
          agent,
          headers: {
            accept: 'text/event-stream',
            ...clientHeaders({ id, username: `u${i}`, roles: ['user'] }, secret),
          },
        },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream ${i}: ${res.statusCode}`));
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (Number.isNaN(s.arrivals[i]!) && chunk.includes('event: notification'))
              s.arrivals[i] = performance.now() - s.t0;
            if (chunk.startsWith('retry:')) resolve();
          });
          res.on('error', () => {
            s.errors += 1;
          });
        },
      );
      req.on('error', reject);
      req.end();
      requests.push(req);
    });
  const opened: Promise<void>[] = [];
  for (let i = 0; i < CONNECTED; i++) {
    const replica = replicas[i % replicas.length]!;
    opened.push(
      (async () => {
        // A connection reset while the accept queue is full is tried again.
        for (let attempt = 1; ; attempt++) {
          try {
            return await openOne(i, replica);
          } catch (err) {
            if (attempt >= 5) throw err;
            await new Promise((r) => setTimeout(r, 100 * attempt));
          }
        }
      })(),
    );
    // A couple of hundred at a time: the accept queues stay short.
    if (opened.length % 200 === 0) await Promise.all(opened.slice(-200));
  }
  await Promise.all(opened);
  return s;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r1 = (ms: number) => Math.round(ms);

interface RoundResult {
  variant: string;
  p50: number;
  p99: number;
  p100: number;
  received: number;
  allStored: number;
}

async function round(
  dbUrl: string,
  db: Db,
  namespace: string,
  variant: 'paged' | 'single',
): Promise<RoundResult> {
  const pageSize = variant === 'paged' ? PAGE : FOLLOWERS + 1;
  const replicas = [
    await startReplica(dbUrl, namespace, pageSize),
    await startReplica(dbUrl, namespace, pageSize),
  ];
  const streams = await openStreams(replicas);
  try {
    // Each round is a new broadcast: the 10-minute rule is reset, not waited out.
    await db.query(`DELETE FROM notify.went_live`);
    const broadcastId = uuidv7();
    const sourceKey = `went_live:${broadcastId}`;
    streams.t0 = performance.now();
    await replicas[0]!.bus.publish('live.stream.started.v1', {
      broadcastId,
      channel: CHANNEL.username,
      userId: CHANNEL.id,
      title: 'The peak',
      startedAt: new Date().toISOString(),
      renditions: ['source'],
    });
    let allStored = NaN;
    const deadline = Date.now() + ROUND_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM notify.notifications WHERE source_key = $1`,
        [sourceKey],
      );
      if (Number.isNaN(allStored) && (row?.n ?? 0) >= FOLLOWERS)
        allStored = performance.now() - streams.t0;
      const received = streams.arrivals.filter((a) => !Number.isNaN(a)).length;
      if (!Number.isNaN(allStored) && received === CONNECTED) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = [...streams.arrivals].filter((a) => !Number.isNaN(a)).sort((a, b) => a - b);
    const full = got.length === CONNECTED;
    return {
      variant,
      p50: percentile(got, 50),
      p99: got.length >= Math.ceil(0.99 * CONNECTED) ? got[Math.ceil(0.99 * CONNECTED) - 1]! : NaN,
      p100: full ? got[got.length - 1]! : NaN,
      received: got.length,
      allStored,
    };
  } finally {
    streams.close();
    for (const r of replicas) await stopReplica(r);
  }
}

async function main(): Promise<void> {
  const tdb = await createTestDatabase(DATABASE_URL!);
  const namespace = uniqueName('BENCHNOTIFY').toUpperCase();
  const db = createPostgresDb({ url: tdb.url, max: 2 });
  const results: RoundResult[] = [];
  try {
    // One replica start runs the migrations; then the followers are seeded in the database itself.
    await stopReplica(await startReplica(tdb.url, namespace, PAGE));
    const t = performance.now();
    await db.query(`INSERT INTO notify.channels (channel_id, username) VALUES ($1, $2)`, [
      CHANNEL.id,
      CHANNEL.username,
    ]);
    await db.query(
      `INSERT INTO notify.follows (channel_id, user_id, followed_at)
       SELECT $1, 'bench-user-' || lpad(g::text, 7, '0'), now() FROM generate_series(0, $2 - 1) g`,
      [CHANNEL.id, FOLLOWERS],
    );
    await db.query(`ANALYZE notify.follows`);
    console.log(`seeded ${FOLLOWERS} followers in ${r1(performance.now() - t)} ms`);

    for (let i = 0; i < ROUNDS; i++)
      for (const variant of ['paged', 'single'] as const) {
        const r = await round(tdb.url, db, namespace, variant);
        results.push(r);
        console.log(
          `round ${i + 1} ${variant.padEnd(6)} push p50 ${r1(r.p50)} ms, p99 ${r1(r.p99)} ms, ` +
            `100% ${r1(r.p100)} ms (${r.received}/${CONNECTED}); all ${FOLLOWERS} stored ${r1(r.allStored)} ms`,
        );
      }
  } finally {
    await db.close();
    await tdb.drop();
    await deleteStream(NATS_URL!, namespace);
  }

  const summary = Object.fromEntries(
    (['paged', 'single'] as const).map((v) => {
      const rs = results.filter((r) => r.variant === v);
      return [
        v,
        {
          pushP50: r1(median(rs.map((r) => r.p50))),
          pushP99: r1(median(rs.map((r) => r.p99))),
          push100: r1(median(rs.map((r) => r.p100))),
          allStored: r1(median(rs.map((r) => r.allStored))),
        },
      ];
    }),
  ) as unknown as Record<'paged' | 'single', Record<string, number>>;
  console.log(`\nmedians over ${ROUNDS} rounds (ms):`);
  console.table(summary);
  const ratio = (k: string) => Math.round((summary.paged[k]! / summary.single[k]!) * 100) / 100;
  console.log(
    `paged/single: push p99 ${ratio('pushP99')}x, all stored ${ratio('allStored')}x ` +
      `(goals: push p99 <= 2000 ms, all stored <= 10000 ms)`,
  );
  mkdirSync(join('bench', 'results'), { recursive: true });
  const file = join(
    'bench',
    'results',
    `notify-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(
    file,
    JSON.stringify(
      {
        followers: FOLLOWERS,
        connected: CONNECTED,
        page: PAGE,
        rounds: ROUNDS,
        cpus: cpus().length,
        results,
        summary,
      },
      null,
      2,
    ),
  );
  console.log(`results in ${file}`);
}

try {
  await main();
} catch (err) {
  console.error('bench:notify failed:', err);
  process.exitCode = 1;
}
