// npm run bench:notify — the go-live peak, on PostgreSQL + NATS JetStream: a channel with
// BENCH_FOLLOWERS (100,000) followers goes live while BENCH_CONNECTED (10,000) of them hold open
// SSE notification streams, spread over two notify replicas (each its own database pool and
// NATS connection, sharing the consumer groups). Per round: the time from the
// live.stream.started.v1 publish until 50/99/100% of the connected followers received the
// push, and until every follower's row is stored. Two fan-outs alternate round by round:
//   paged  NOTIFY_FANOUT_PAGE_SIZE=BENCH_PAGE (5000): pages queued in the outbox, shared by replicas
//   single NOTIFY_FANOUT_PAGE_SIZE above the follower count: one INSERT ... SELECT in the event's tx
// Medians over BENCH_ROUNDS (3) rounds each, and the paged/single ratio. Then memory per open
// stream: a notify replica alone in its process against a bare node:http SSE broadcaster, each
// holding BENCH_CONNECTED streams, alternating over BENCH_MEMORY_ROUNDS (2) rounds (RSS after a
// GC, before and after the streams open; bench/notify/server-*.ts). And chat beside the peak:
// BENCH_CHAT_CLIENTS (1,000) in one room, 20 senders at BENCH_CHAT_RATE (20) msg/s for
// BENCH_CHAT_SECONDS (10), with the paged fan-out set off one second in or not, alternating over
// BENCH_CHAT_ROUNDS (3) pairs: the delivery p99 with the peak against without.
// The streams are opened on the replicas' own ports with the identity headers the gateway would
// add (not through the gateway); the clients run in this process, each replica in its own.
// Knobs: BENCH_FOLLOWERS, BENCH_CONNECTED, BENCH_PAGE, BENCH_ROUNDS, BENCH_DATABASE_URL (or
// TEST_DATABASE_URL), BENCH_NATS_URL (or TEST_NATS_URL). Results: bench/results/notify-<time>.json.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { JetStreamBus, type Bus } from '@neon/bus';
import { createPostgresDb, type Db } from '@neon/db';
import { clientHeaders, uuidv7 } from '@neon/kit';
import { createTestDatabase, deleteStream, uniqueName } from '@neon/testing';
import { ask } from './lib/ipc.js';
import { startChild, stopProcess, waitLine } from './lib/proc.js';

const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 100_000);
// The clients hold one descriptor per stream here, and each replica its own share in its process.
const CONNECTED = Number(process.env.BENCH_CONNECTED ?? 10_000);
const PAGE = Number(process.env.BENCH_PAGE ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const NATS_URL = process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL;
const MEMORY_ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 2);
const CHAT_ROUNDS = Number(process.env.BENCH_CHAT_ROUNDS ?? 3);
const CHAT_CLIENTS = Number(process.env.BENCH_CHAT_CLIENTS ?? 1000);
const CHAT_RATE = Number(process.env.BENCH_CHAT_RATE ?? 20);
const CHAT_SECONDS = Number(process.env.BENCH_CHAT_SECONDS ?? 10);
const ROUND_TIMEOUT_MS = 180_000;
if (!DATABASE_URL || !NATS_URL) {
  console.error('Set BENCH_DATABASE_URL and BENCH_NATS_URL (or TEST_DATABASE_URL, TEST_NATS_URL).');
  process.exit(2);
}

const CHANNEL = { id: uuidv7(), username: 'bigchannel' };
const secret = randomBytes(32).toString('base64url');
const userId = (i: number) => `bench-user-${String(i).padStart(7, '0')}`;

/** A notify replica in a process of its own (bench/notify/server-neon.ts). */
const replica = (dbUrl: string, namespace: string, pageSize: number) =>
  startChild(join('bench', 'notify', 'server-neon.ts'), {
    BENCH_DATABASE_URL: dbUrl,
    BENCH_NATS_URL: NATS_URL,
    BENCH_NAMESPACE: namespace,
    BENCH_SECRET: secret,
    NOTIFY_FANOUT_PAGE_SIZE: String(pageSize),
    NOTIFY_STREAM_BUFFER_BYTES: String(1 << 20),
  });

/** The publisher of the go-live events, as live would be: a bus connection of its own. */
const liveBus = (namespace: string) =>
  JetStreamBus.connect({ url: NATS_URL, producer: 'live', namespace });

interface Streams {
  /** ms after `t0` when each stream saw its first notification (NaN until then). */
  arrivals: Float64Array;
  t0: number;
  /** Streams that failed (refused or reset) after opening. */
  errors: number;
  close(): void;
}

/** Opens one SSE stream per connected follower, alternating between the servers at `urls`. */
async function openStreams(urls: string[]): Promise<Streams> {
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
  const openOne = (i: number, url: string) =>
    new Promise<void>((resolve, reject) => {
      // Every tenth follower holds a stream: the connected ones are spread over the id range.
      const id = userId(i * Math.floor(FOLLOWERS / CONNECTED));
      const req = request(
        `${url}/api/v1/notifications/stream`,
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
    const url = urls[i % urls.length]!;
    opened.push(
      (async () => {
        // A connection reset while the accept queue is full is tried again.
        for (let attempt = 1; ; attempt++) {
          try {
            return await openOne(i, url);
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

interface ChatLoad {
  /** Runs the generator's load for `seconds`; `during` runs once it has started. */
  phase(seconds: number, during: () => Promise<void>): Promise<ChatPhase>;
  stop(): Promise<void>;
}

interface ChatPhase {
  expected: number;
  delivered: number;
  p50ms: number;
  p99ms: number;
}

/**
 * A chat room under load beside the peak: Neon's chat service in a process of its own on the
 * same PostgreSQL (bench/chat/server-neon.ts) and bench:chat's C generator with CHAT_CLIENTS
 * clients, 20 of them sending.
 */
async function startChatLoad(dbUrl: string): Promise<ChatLoad> {
  mkdirSync(join('bench', 'results'), { recursive: true });
  const bin = join('bench', 'results', 'chat-generator');
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin, join('bench', 'chat', 'generator.c')]);
  const server = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join('bench', 'chat', 'server-neon.ts')],
    {
      env: { ...process.env, BENCH_SECRET: secret, BENCH_SENDERS: '20', BENCH_DATABASE_URL: dbUrl },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = await waitLine(createInterface({ input: server.stdout }), 'PORT', 180_000);
  const gen = spawn(bin, ['neon', port, String(CHAT_CLIENTS), '20', secret, '100'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: gen.stdout });
  await waitLine(lines, 'READY', 180_000);
  return {
    async phase(seconds, during) {
      const started = waitLine(lines, 'PHASE_START', 10_000);
      gen.stdin.write(`PHASE ${CHAT_RATE} ${seconds}\n`);
      await started;
      const ended = waitLine(lines, 'PHASE_END', (seconds + 30) * 1000);
      await during();
      return JSON.parse(await ended) as ChatPhase;
    },
    async stop() {
      gen.kill('SIGKILL');
      // SIGTERM: the server removes its data directory as it stops.
      await stopProcess(server);
    },
  };
}

/**
 * Chat delivery with and without the go-live peak: the same replicas and open streams each
 * time; one second into a CHAT_SECONDS load, the paged fan-out is set off or not.
 */
async function chatRound(
  chat: ChatLoad,
  dbUrl: string,
  db: Db,
  bus: Bus,
  namespace: string,
  peak: boolean,
): Promise<ChatPhase & { peak: boolean }> {
  const replicas = [await replica(dbUrl, namespace, PAGE), await replica(dbUrl, namespace, PAGE)];
  const streams = await openStreams(replicas.map((r) => r.ready.url!));
  try {
    await db.query(`DELETE FROM notify.went_live`);
    const r = await chat.phase(CHAT_SECONDS, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (!peak) return;
      await bus.publish('live.stream.started.v1', {
        broadcastId: uuidv7(),
        channel: CHANNEL.username,
        userId: CHANNEL.id,
        title: 'The peak',
        startedAt: new Date().toISOString(),
        renditions: ['source'],
      });
    });
    return { ...r, peak };
  } finally {
    streams.close();
    for (const r of replicas) await r.stop();
  }
}

interface MemoryResult {
  server: 'neon' | 'bare';
  rssBefore: number;
  rssAfter: number;
  bytesPerStream: number;
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/**
 * Memory per open stream: one server in a process of its own, its RSS after a GC before and
 * after CONNECTED streams are opened to it (and have had their first heartbeat's worth of time).
 */
async function memoryRound(
  server: 'neon' | 'bare',
  dbUrl: string,
  namespace: string,
): Promise<MemoryResult> {
  const child = await startChild(
    join('bench', 'notify', `server-${server}.ts`),
    {
      BENCH_DATABASE_URL: dbUrl,
      BENCH_NATS_URL: NATS_URL!,
      BENCH_NAMESPACE: namespace,
      BENCH_SECRET: secret,
    },
    ['--expose-gc'],
    { ipc: true },
  );
  try {
    const rssBefore = await ask<number>(child.process, 'rss');
    const streams = await openStreams([child.ready.url!]);
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const rssAfter = await ask<number>(child.process, 'rss');
      return { server, rssBefore, rssAfter, bytesPerStream: (rssAfter - rssBefore) / CONNECTED };
    } finally {
      streams.close();
    }
  } finally {
    await child.stop();
  }
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
  bus: Bus,
  namespace: string,
  variant: 'paged' | 'single',
): Promise<RoundResult> {
  const pageSize = variant === 'paged' ? PAGE : FOLLOWERS + 1;
  const replicas = [
    await replica(dbUrl, namespace, pageSize),
    await replica(dbUrl, namespace, pageSize),
  ];
  const streams = await openStreams(replicas.map((r) => r.ready.url!));
  try {
    // Each round is a new broadcast: the 10-minute rule is reset, not waited out.
    await db.query(`DELETE FROM notify.went_live`);
    const broadcastId = uuidv7();
    const sourceKey = `went_live:${broadcastId}`;
    streams.t0 = performance.now();
    await bus.publish('live.stream.started.v1', {
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
    for (const r of replicas) await r.stop();
  }
}

async function main(): Promise<void> {
  const tdb = await createTestDatabase(DATABASE_URL!);
  const namespace = uniqueName('BENCHNOTIFY').toUpperCase();
  const db = createPostgresDb({ url: tdb.url, max: 2 });
  const bus = await liveBus(namespace);
  const results: RoundResult[] = [];
  const memory: MemoryResult[] = [];
  const chatResults: (ChatPhase & { peak: boolean })[] = [];
  try {
    // One replica start runs the migrations; then the followers are seeded in the database itself.
    await (await replica(tdb.url, namespace, PAGE)).stop();
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
        const r = await round(tdb.url, db, bus, namespace, variant);
        results.push(r);
        console.log(
          `round ${i + 1} ${variant.padEnd(6)} push p50 ${r1(r.p50)} ms, p99 ${r1(r.p99)} ms, ` +
            `100% ${r1(r.p100)} ms (${r.received}/${CONNECTED}); all ${FOLLOWERS} stored ${r1(r.allStored)} ms`,
        );
      }
    // A fresh room and generator for every measurement: the generator's sockets do not outlive
    // their tickets' sessions, and no run inherits the previous one's backlog.
    for (let i = 0; i < CHAT_ROUNDS; i++)
      for (const peak of i % 2 === 0 ? [false, true] : [true, false]) {
        const chat = await startChatLoad(tdb.url);
        try {
          const r = await chatRound(chat, tdb.url, db, bus, namespace, peak);
          chatResults.push(r);
          console.log(
            `chat round ${i + 1} ${peak ? 'with the peak   ' : 'without the peak'} delivered ` +
              `${r.delivered}/${r.expected}, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms`,
          );
        } finally {
          await chat.stop();
        }
      }
    for (let i = 0; i < MEMORY_ROUNDS; i++)
      for (const server of ['neon', 'bare'] as const) {
        const m = await memoryRound(server, tdb.url, namespace);
        memory.push(m);
        console.log(
          `memory round ${i + 1} ${server.padEnd(4)} ${Math.round(m.bytesPerStream)} bytes per open stream ` +
            `(RSS ${mb(m.rssBefore)} -> ${mb(m.rssAfter)} MB with ${CONNECTED} streams)`,
        );
      }
  } finally {
    await bus.close();
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
  if (results.length > 0) {
    console.log(`\nmedians over ${ROUNDS} rounds (ms):`);
    console.table(summary);
    const ratio = (k: string) => Math.round((summary.paged[k]! / summary.single[k]!) * 100) / 100;
    console.log(
      `paged/single: push p99 ${ratio('pushP99')}x, all stored ${ratio('allStored')}x ` +
        `(goals: push p99 <= 2000 ms, all stored <= 10000 ms)`,
    );
  }
  // A run that lost messages has no meaningful p99: it is left out (and printed as such above).
  const chatP99 = (peak: boolean) =>
    median(
      chatResults.filter((r) => r.peak === peak && r.delivered === r.expected).map((r) => r.p99ms),
    );
  const chatRatio =
    chatResults.length > 0 ? Math.round((chatP99(true) / chatP99(false)) * 100) / 100 : null;
  if (chatRatio !== null)
    console.log(
      `chat delivery p99, medians: with the peak ${r1(chatP99(true))} ms, without ${r1(chatP99(false))} ms: ` +
        `${chatRatio}x (goal <= 1.2x)`,
    );
  const perStream = (server: string) =>
    median(memory.filter((m) => m.server === server).map((m) => m.bytesPerStream));
  const memoryRatio =
    memory.length > 0 ? Math.round((perStream('neon') / perStream('bare')) * 100) / 100 : null;
  if (memoryRatio !== null)
    console.log(
      `memory per open stream, medians: neon ${Math.round(perStream('neon'))} B, bare node:http ` +
        `${Math.round(perStream('bare'))} B: ${memoryRatio}x (goal <= 1.5x)`,
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
        chat: chatResults,
        chatRatio,
        memory,
        memoryRatio,
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
