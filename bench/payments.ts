// npm run bench:payments — signed Stripe webhooks through the gateway into the payments service
// on PostgreSQL, against a bare insert of the same bodies. See docs/perf/payments.md.
//
// Neon: the payments service (lib/payments-server.ts: its buildApp on PostgreSQL and NATS, the
// distributed shape, default config) and a gateway (lib/gateway-server.ts, PAYMENTS_URL pointing
// at it), each alone in its process; BENCH_SENDERS (32) senders on an undici Pool POST the
// events to the gateway's /webhooks/stripe, each signed at send time with the Stripe-Signature
// scheme. Stored: until every POST is answered; processed: until no event is pending in
// payments.webhook_events (polled). Then the exactly-once check: each subscription's status,
// months and cancel-at-period-end equal its sequence's in-order result, the ledger sums to
// zero, and it holds one payment transaction per paid invoice.
//
// The peer: the same bodies, in the same order, inserted by hand-written code — `pg` with a
// pool of 32, INSERT … ON CONFLICT DO NOTHING into (provider, event_id PRIMARY KEY, body jsonb),
// 32 loops at once. No HTTP, no signature, no processing: the floor a webhook store is judged by.
//
// CPU: user + system from /proc/<pid>/stat of the payments and gateway processes, and of the
// round database's PostgreSQL backends (pids from pg_stat_activity, sampled every 100 ms; a
// backend that exits between samples loses its last slice). The senders' and the peer's client
// CPU is this process's (process.cpuUsage).
//
// Knobs: BENCH_EVENTS (50000, duplicates included), BENCH_ROUNDS (2), BENCH_SENDERS (32),
// DATABASE_URL (postgres://postgres@127.0.0.1:5432/test), NATS_URL (nats://127.0.0.1:4222).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import { createTestDatabase, type TestDatabase } from '@neon/testing';
import { median, percentile } from './lib/load.js';
import { cpuSeconds, startChild, type Child } from './lib/proc.js';
import { AMOUNT, EXPECTED, stripeSignature, workload, type BenchEvent } from './payments-data.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 32);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SECRET = `bench-internal-${randomBytes(16).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_bench_${randomBytes(12).toString('hex')}`;
const WARMUP = 500;

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

interface NeonSample {
  storedPerSec: number;
  processedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpu: { payments: number; gateway: number; postgres: number; senders: number };
  errors: number;
  check: string;
  pass: boolean;
}

interface PeerSample {
  perSec: number;
  cpu: { postgres: number; client: number };
}

/** CPU of the database's backends, sampled by pid. */
class BackendCpu {
  private first = new Map<number, number>();
  private last = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly admin: pg.Client;
  constructor(private readonly db: string) {
    this.admin = new pg.Client({ connectionString: DATABASE_URL });
  }
  async start(): Promise<void> {
    await this.admin.connect();
    await this.sample(true);
    this.timer = setInterval(() => void this.sample(false).catch(() => undefined), 100);
  }
  private async sample(baseline: boolean): Promise<void> {
    const { rows } = await this.admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1`,
      [this.db],
    );
    for (const { pid } of rows) {
      let cpu: number;
      try {
        cpu = cpuSeconds(pid);
      } catch {
        continue;
      }
      // A backend first seen after the start: all its CPU is this run's.
      if (!this.first.has(pid)) this.first.set(pid, baseline ? cpu : 0);
      this.last.set(pid, cpu);
    }
  }
  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    await this.sample(false);
    await this.admin.end();
    let total = 0;
    for (const [pid, cpu] of this.last) total += cpu - (this.first.get(pid) ?? 0);
    return total;
  }
}

const clientCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Sends `events` with `SENDERS` concurrent senders; latencies in ms, sorted. */
async function post(
  pool: Pool,
  events: readonly BenchEvent[],
): Promise<{ latencies: Float64Array; errors: number; statuses: Map<number, number> }> {
  let next = 0;
  let errors = 0;
  const statuses = new Map<number, number>();
  const latencies = new Float64Array(events.length);
  async function sender(): Promise<void> {
    for (let i = next++; i < events.length; i = next++) {
      const e = events[i]!;
      const t0 = performance.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/webhooks/stripe',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': stripeSignature(e.body, WEBHOOK_SECRET),
          },
          body: e.body,
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies[i] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return { latencies: latencies.sort(), errors, statuses };
}

async function pending(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM payments.webhook_events WHERE state = 'pending'`,
  );
  return rows[0]!.n;
}

async function neonRound(w: ReturnType<typeof workload>, warm: BenchEvent[]): Promise<NeonSample> {
  const tdb: TestDatabase = await createTestDatabase(DATABASE_URL);
  const dbName = new URL(tdb.url).pathname.slice(1);
  const children: Child[] = [];
  const db = new pg.Client({ connectionString: tdb.url });
  try {
    const payments = await startChild('bench/lib/payments-server.ts', {
      DATABASE_URL: tdb.url,
      NATS_URL,
      INTERNAL_SECRET: SECRET,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      LOG_LEVEL: 'warn',
    });
    children.push(payments);
    const gateway = await startChild('bench/lib/gateway-server.ts', {
      PAYMENTS_URL: payments.ready.url!,
      BENCH_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      WEB_ROOT: '/nonexistent',
    });
    children.push(gateway);
    await db.connect();
    const pool = new Pool(gateway.ready.url!, {
      connections: SENDERS,
      pipelining: 1,
      keepAliveTimeout: 60_000,
    });
    // Warm-up: events of a type payments acknowledges and does not use.
    const warmRun = await post(pool, warm);
    if (warmRun.errors > 0)
      throw new Error(`warm-up failed: ${JSON.stringify([...warmRun.statuses])}`);
    while ((await pending(db)) > 0) await new Promise((r) => setTimeout(r, 50));

    const backends = new BackendCpu(dbName);
    await backends.start();
    const cpu0 = {
      payments: cpuSeconds(payments.pid),
      gateway: cpuSeconds(gateway.pid),
      senders: clientCpu(),
    };
    const t0 = performance.now();
    const run = await post(pool, w.sends);
    const tStored = performance.now();
    const senders = clientCpu() - cpu0.senders;
    while ((await pending(db)) > 0) await new Promise((r) => setTimeout(r, 100));
    const tProcessed = performance.now();
    const cpu = {
      payments: cpuSeconds(payments.pid) - cpu0.payments,
      gateway: cpuSeconds(gateway.pid) - cpu0.gateway,
      postgres: await backends.stop(),
      senders,
    };
    await pool.close();
    const { check, pass } = await exactlyOnce(db, w);
    return {
      storedPerSec: w.sends.length / ((tStored - t0) / 1000),
      processedPerSec: w.unique / ((tProcessed - t0) / 1000),
      p50Ms: percentile(run.latencies, 50),
      p99Ms: percentile(run.latencies, 99),
      cpu,
      errors: run.errors,
      check,
      pass,
    };
  } finally {
    await db.end().catch(() => undefined);
    for (const c of children.reverse()) await c.stop();
    await tdb.drop();
  }
}

async function exactlyOnce(
  db: pg.Client,
  w: ReturnType<typeof workload>,
): Promise<{ check: string; pass: boolean }> {
  const states = await db.query<{ state: string; n: number }>(
    `SELECT state, count(*)::int AS n FROM payments.webhook_events WHERE type <> 'customer.created' GROUP BY state`,
  );
  const byState = Object.fromEntries(states.rows.map((r) => [r.state, r.n]));
  const stored = states.rows.reduce((s, r) => s + r.n, 0);
  const subs = await db.query<{
    provider_ref: string;
    status: string;
    months: number;
    cancel_at_period_end: boolean;
  }>(`SELECT provider_ref, status, months, cancel_at_period_end FROM payments.subscriptions`);
  const found = new Map(subs.rows.map((r) => [r.provider_ref, r]));
  let equal = 0;
  const wrong: string[] = [];
  for (const s of w.sequences) {
    const row = found.get(s.ref);
    const want = EXPECTED[s.kind];
    if (
      row &&
      row.status === want.status &&
      row.months === want.months &&
      row.cancel_at_period_end === want.cancelAtPeriodEnd
    )
      equal++;
    else if (wrong.length < 3)
      wrong.push(
        `${s.ref} (${s.kind}${s.reversed ? ', reversed' : ''}): ${row ? `${row.status}/${row.months}/${row.cancel_at_period_end}` : 'missing'}`,
      );
  }
  const ledger = await db.query<{ total: string | null; entries: number }>(
    `SELECT sum(amount)::text AS total, count(*)::int AS entries FROM payments.ledger_entries`,
  );
  const txns = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM payments.ledger_transactions WHERE kind = 'payment'`,
  );
  const provider = await db.query<{ total: string | null }>(
    `SELECT sum(amount)::text AS total FROM payments.ledger_entries WHERE account = 'provider:stripe'`,
  );
  const invoices = w.sequences.reduce((s, q) => s + q.invoices, 0);
  const total = Number(ledger.rows[0]!.total ?? 0);
  const collected = Number(provider.rows[0]!.total ?? 0);
  const pass =
    stored === w.unique &&
    (byState.processed ?? 0) === w.unique &&
    equal === w.sequences.length &&
    subs.rows.length === w.sequences.length &&
    total === 0 &&
    txns.rows[0]!.n === invoices &&
    collected === invoices * AMOUNT;
  const check =
    `${pass ? 'PASS' : 'FAIL'}: events stored ${stored}/${w.unique} (${JSON.stringify(byState)}), ` +
    `subscriptions equal to the in-order replay ${equal}/${w.sequences.length} (rows ${subs.rows.length}), ` +
    `ledger sum ${total} over ${ledger.rows[0]!.entries} entries, payment transactions ${txns.rows[0]!.n}/${invoices}, ` +
    `collected ${collected}/${invoices * AMOUNT}` +
    (wrong.length ? `; e.g. ${wrong.join('; ')}` : '');
  return { check, pass };
}

async function peerRound(w: ReturnType<typeof workload>, warm: BenchEvent[]): Promise<PeerSample> {
  const tdb = await createTestDatabase(DATABASE_URL);
  const dbName = new URL(tdb.url).pathname.slice(1);
  const pool = new pg.Pool({ connectionString: tdb.url, max: SENDERS });
  // pool.end() resolves before every backend has gone; the drop's FORCE then ends the rest.
  pool.on('error', () => undefined);
  try {
    await pool.query(
      `CREATE TABLE webhook_events (provider text NOT NULL, event_id text PRIMARY KEY, body jsonb NOT NULL)`,
    );
    const insert = async (events: readonly BenchEvent[]) => {
      let next = 0;
      const loop = async () => {
        for (let i = next++; i < events.length; i = next++) {
          const e = events[i]!;
          await pool.query(
            `INSERT INTO webhook_events (provider, event_id, body) VALUES ('stripe', $1, $2) ON CONFLICT DO NOTHING`,
            [e.id, e.body],
          );
        }
      };
      await Promise.all(Array.from({ length: SENDERS }, loop));
    };
    await insert(warm);
    const backends = new BackendCpu(dbName);
    await backends.start();
    const c0 = clientCpu();
    const t0 = performance.now();
    await insert(w.sends);
    const seconds = (performance.now() - t0) / 1000;
    const client = clientCpu() - c0;
    const postgres = await backends.stop();
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events`,
    );
    if (rows[0]!.n !== w.unique + warm.length)
      throw new Error(`the peer stored ${rows[0]!.n} rows, not ${w.unique + warm.length}`);
    return { perSec: w.sends.length / seconds, cpu: { postgres, client } };
  } finally {
    await pool.end();
    await tdb.drop();
  }
}

const w = workload(EVENTS);
const warm: BenchEvent[] = Array.from({ length: WARMUP }, (_, i) => {
  const id = `evt_bench_warmup_${i}`;
  return {
    id,
    body: JSON.stringify({
      id,
      object: 'event',
      type: 'customer.created',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `cus_bench_${i}`, object: 'customer' } },
    }),
  };
});
const reversed = w.sequences.filter((s) => s.reversed).length;
process.stdout.write(
  `payments benchmark: ${w.sends.length} signed Stripe events (${w.unique} distinct + ${w.duplicates} redelivered) ` +
    `in ${w.sequences.length} subscription sequences (${reversed} sent in reverse), ${SENDERS} senders, ` +
    `${ROUNDS} rounds, a fresh PostgreSQL database per round and side\n`,
);
const neon: NeonSample[] = [];
const peer: PeerSample[] = [];
let failed = false;
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? (['peer', 'neon'] as const) : (['neon', 'peer'] as const);
  for (const side of order) {
    if (side === 'neon') {
      const s = await neonRound(w, warm);
      neon.push(s);
      failed ||= !s.pass || s.errors > 0;
      const neonCpu = s.cpu.payments + s.cpu.gateway;
      process.stdout.write(
        `round ${round + 1} neon: stored ${fmt(s.storedPerSec)}/s, processed ${fmt(s.processedPerSec)}/s, ` +
          `answer p50 ${fmt(s.p50Ms, 1)} ms p99 ${fmt(s.p99Ms, 1)} ms, errors ${s.errors}; ` +
          `CPU s: payments ${fmt(s.cpu.payments, 1)} + gateway ${fmt(s.cpu.gateway, 1)} = ${fmt(neonCpu, 1)}, ` +
          `postgres backends ${fmt(s.cpu.postgres, 1)}, senders ${fmt(s.cpu.senders, 1)}\n` +
          `  exactly-once ${s.check}\n`,
      );
    } else {
      const s = await peerRound(w, warm);
      peer.push(s);
      process.stdout.write(
        `round ${round + 1} bare insert: ${fmt(s.perSec)}/s; CPU s: client ${fmt(s.cpu.client, 1)}, ` +
          `postgres backends ${fmt(s.cpu.postgres, 1)}\n`,
      );
    }
  }
  const n = neon[round]!;
  const p = peer[round]!;
  process.stdout.write(
    `round ${round + 1} ratio: stored ${fmt(n.storedPerSec / p.perSec, 2)}×, processed ${fmt(n.processedPerSec / p.perSec, 2)}× the bare insert\n`,
  );
}
const m = (f: (s: NeonSample) => number) => median(neon.map(f));
const peerRate = median(peer.map((s) => s.perSec));
const ratios = neon.map((s, i) => s.storedPerSec / peer[i]!.perSec);
const processedRatios = neon.map((s, i) => s.processedPerSec / peer[i]!.perSec);
const perK = (cpu: number) => (cpu / w.sends.length) * 1000;
process.stdout.write(
  `\nmedians over ${ROUNDS} rounds:\n` +
    `  neon: stored ${fmt(m((s) => s.storedPerSec))}/s, processed ${fmt(m((s) => s.processedPerSec))}/s, ` +
    `answer p50 ${fmt(
      m((s) => s.p50Ms),
      1,
    )} ms, p99 ${fmt(
      m((s) => s.p99Ms),
      1,
    )} ms\n` +
    `  neon CPU per 1000 events: payments + gateway ${fmt(
      m((s) => perK(s.cpu.payments + s.cpu.gateway)),
      2,
    )} s ` +
    `(payments ${fmt(
      m((s) => perK(s.cpu.payments)),
      2,
    )}, gateway ${fmt(
      m((s) => perK(s.cpu.gateway)),
      2,
    )}), ` +
    `postgres backends ${fmt(
      m((s) => perK(s.cpu.postgres)),
      2,
    )} s\n` +
    `  bare insert: ${fmt(peerRate)}/s; CPU per 1000 events: client ${fmt(median(peer.map((s) => perK(s.cpu.client))), 2)} s, ` +
    `postgres backends ${fmt(median(peer.map((s) => perK(s.cpu.postgres))), 2)} s\n` +
    `  ratio stored/s over bare inserts/s (median of per-round ratios): ${fmt(median(ratios), 2)}× (goal ≥ 0.5×)\n` +
    `  ratio processed/s over bare inserts/s: ${fmt(median(processedRatios), 2)}×\n` +
    `  exactly-once: ${neon.filter((s) => s.pass).length}/${neon.length} rounds PASS\n`,
);
if (failed) process.exitCode = 1;
