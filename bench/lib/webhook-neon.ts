// Neon's side of the webhook benchmark: the channels service as the embedded shape builds it
// (openPlatform: PGlite in DATA_DIR, the in-process bus; channelsService.build with
// CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK on and every other setting at its default), alone in
// this process, so that process.cpuUsage() is Neon's CPU, PGlite's included.
//
// Before it prints its url: a broadcaster's channel (from identity's event on the bus) and
// BENCH_WEBHOOK_SUBSCRIPTIONS stream.online subscriptions of one app, made through the public
// route, to BENCH_WEBHOOK_CALLBACK/hook/<i>, each verified by the service's own worker.
// Commands (ipc.ts):
//   queue { events }: events − 1 stream.online events queued in one transaction (enqueueFeedEvent,
//     what the bus consumer calls), then the last one published on the bus, whose consumer
//     queues it and wakes the worker. The clock starts at the commit.
//   settle: once the receiver has everything, waits for the queue to be empty and answers the
//     CPU and wall time since the commit, and the statements and transactions the service sent
//     PGlite meanwhile (counted on their way, not timed).
//   bare { count, literal }: the same DeliveryWorker (same options and sender) with its queue in
//     memory instead of the database: `count` messages to the same subscriptions, the callbacks
//     by name, or with `literal` by IP address (no lookup). What the database costs, apart.
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { rm } from 'node:fs/promises';
import {
  DeliveryWorker,
  channelsService,
  enqueueFeedEvent,
  type ClaimedMessage,
  type EventSubRepository,
} from '@neon/channels';
import type { Db, Queryable, SqlValue } from '@neon/db';
import { appHeaders, loadConfig, uuidv7 } from '@neon/kit';
import { openPlatform, platformSpec } from '@neon/platform';
import { embeddedDataDir, waitFor } from '@neon/testing';
import { serve } from './ipc.js';

const CALLBACK = process.env.BENCH_WEBHOOK_CALLBACK!;
const SUBSCRIPTIONS = Number(process.env.BENCH_WEBHOOK_SUBSCRIPTIONS ?? 20);
const SECRET = process.env.BENCH_WEBHOOK_SECRET!;
const CLIENT_ID = 'bench-webhook-app';
const USERNAME = 'benchcaster';

const dataDir = await embeddedDataDir('neon-bench-webhook-');
const platform = await openPlatform({
  name: 'neon',
  shape: 'embedded',
  config: loadConfig(platformSpec, { DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
});

// The service's statements are counted (not timed) on their way to PGlite: what a delivery asks
// of the database, printed beside its cost.
const counted = { statements: 0, transactions: 0, claims: 0 };
const counting = (q: Queryable): Queryable => ({
  query: <R extends object>(text: string, params?: readonly SqlValue[]) => {
    counted.statements++;
    if (text.includes('SKIP LOCKED')) counted.claims++;
    return q.query<R>(text, params);
  },
});
const db: Db = platform.db;
platform.db = {
  kind: db.kind,
  ...counting(db),
  tx: (fn) => {
    counted.transactions++;
    return db.tx((q) => fn(counting(q)));
  },
  ping: () => db.ping(),
  close: () => db.close(),
};
const config = loadConfig(channelsService.spec, { CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK: 'true' });
const service = await channelsService.build(platform, config);
const url = await service.server.listen({ host: '127.0.0.1', port: 0 });
await service.start?.();

const userId = uuidv7();
await platform.bus.publish('identity.user.registered.v1', {
  userId,
  username: USERNAME,
  displayName: 'Bench Caster',
  createdAt: new Date().toISOString(),
});
await waitFor(
  async () =>
    (await service.server.inject({ url: `/api/v1/channels/${USERNAME}` })).statusCode === 200,
  { what: 'the broadcaster’s channel' },
);
const headers = appHeaders({ clientId: CLIENT_ID, scopes: [] }, platform.internalSecret);
for (let i = 0; i < SUBSCRIPTIONS; i++) {
  const res = await service.server.inject({
    method: 'POST',
    url: '/public/v1/eventsub/subscriptions',
    headers,
    payload: {
      type: 'stream.online',
      version: '1',
      condition: { broadcasterUserId: userId },
      transport: { method: 'webhook', callback: `${CALLBACK}/hook/${i}`, secret: SECRET },
    },
  });
  if (res.statusCode !== 202) throw new Error(`subscribe: ${res.statusCode} ${res.body}`);
}
type Subscription = ClaimedMessage['subscription'];
const subscriptions = await waitFor(
  async () => {
    const rows = await platform.db.query<Subscription>(
      `SELECT id, client_id, type, version, broadcaster_user_id, callback, secret, status, created_at
         FROM channels.eventsub_subscriptions WHERE status = 'enabled' ORDER BY callback`,
    );
    return rows.length === SUBSCRIPTIONS ? rows : undefined;
  },
  { what: 'every subscription verified', timeoutMs: 30_000 },
);

const attempts = service.server.metrics.getSingleMetric('channels_eventsub_deliveries_total');
async function failedAttempts(): Promise<number> {
  const { values } = await attempts!.get();
  return values.filter((v) => v.labels.result === 'failed').reduce((n, v) => n + v.value, 0);
}

const started = (i: number) => ({
  id: uuidv7(),
  type: 'live.stream.started.v1' as const,
  occurredAt: new Date().toISOString(),
  producer: 'live',
  data: {
    broadcastId: randomUUID(),
    channel: USERNAME,
    userId,
    title: `Bench broadcast ${i}`,
    startedAt: new Date().toISOString(),
    renditions: ['720p'],
  },
});

let clock: { cpu: NodeJS.CpuUsage; t: number; failed: number; counted: typeof counted } | undefined;
/** The payload of a real notification, for the bare worker's messages. */
let payload: Record<string, unknown> | undefined;

async function queue(args: { events: number }) {
  const q0 = process.cpuUsage();
  await platform.db.tx(async (q) => {
    for (let i = 1; i < args.events; i++) await enqueueFeedEvent(q, started(i));
    if (payload) return;
    const [row] = await q.query<{ payload: Record<string, unknown> }>(
      `SELECT payload FROM channels.eventsub_messages WHERE kind = 'notification' LIMIT 1`,
    );
    payload = row?.payload;
  });
  const cpu = process.cpuUsage();
  clock = { cpu, t: performance.now(), failed: await failedAttempts(), counted: { ...counted } };
  const queueUs = cpu.user + cpu.system - (q0.user + q0.system);
  await platform.bus.publish('live.stream.started.v1', started(args.events).data);
  return { queueUs };
}

async function settle() {
  await waitFor(
    async () => {
      // Past the count: the bench's own statement.
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM channels.eventsub_messages`,
      );
      return row?.n === 0;
    },
    { what: 'an empty queue', timeoutMs: 60_000, intervalMs: 1 },
  );
  const cpu = process.cpuUsage(clock!.cpu);
  const wallMs = performance.now() - clock!.t;
  return {
    cpuUs: cpu.user + cpu.system,
    wallMs,
    errors: (await failedAttempts()) - clock!.failed,
    statements: counted.statements - clock!.counted.statements,
    transactions: counted.transactions - clock!.counted.transactions,
    claims: counted.claims - clock!.counted.claims,
  };
}

/** EventSubRepository's part in delivering, in memory: claim takes from an array. */
class MemoryQueue {
  private pending: ClaimedMessage[] = [];
  private left = 0;
  private errors = 0;
  private done: (errors: number) => void = () => undefined;
  /** Queues `messages`; `done` is called once every one is settled. */
  load(messages: ClaimedMessage[], done: (errors: number) => void): void {
    this.pending = messages;
    this.left = messages.length;
    this.errors = 0;
    this.done = done;
  }
  private settled(failed: boolean): void {
    if (failed) this.errors++;
    if (--this.left === 0) this.done(this.errors);
  }
  async claim(limit: number): Promise<ClaimedMessage[]> {
    return this.pending.splice(0, limit);
  }
  async delivered(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i++) this.settled(false);
  }
  async failed(): Promise<'dropped'> {
    this.settled(true);
    return 'dropped';
  }
  async drop(): Promise<void> {
    this.settled(true);
  }
  async verificationFailed(): Promise<void> {}
  async release(): Promise<void> {}
}

/** A worker as buildApp makes one, long-lived like it, but for its queue (and metrics). */
function bareWorker(): { queue: MemoryQueue; worker: DeliveryWorker } {
  const queue = new MemoryQueue();
  const worker = new DeliveryWorker({
    repo: queue as unknown as EventSubRepository,
    logger: platform.logger,
    // The product's is a prom-client counter's increment.
    metrics: { attempt: () => undefined },
    policy: { allowHttpLoopback: config.CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK },
    resolve: (host) => lookup(host, { all: true, verbatim: true }),
    timeoutMs: config.CHANNELS_EVENTSUB_TIMEOUT_MS,
    retryMs: config.CHANNELS_EVENTSUB_RETRY_MS,
    retryMaxMs: config.CHANNELS_EVENTSUB_RETRY_MAX_MS,
    giveUpMs: config.CHANNELS_EVENTSUB_GIVE_UP_MS,
    intervalMs: config.CHANNELS_EVENTSUB_WORKER_INTERVAL_MS,
  });
  worker.start();
  return { queue, worker };
}
const bareWorkers = { byName: bareWorker(), byAddress: bareWorker() };

async function bare(args: { count: number; literal: boolean }) {
  const { queue, worker } = args.literal ? bareWorkers.byAddress : bareWorkers.byName;
  const messages: ClaimedMessage[] = Array.from({ length: args.count }, (_, i) => {
    const s = subscriptions[i % subscriptions.length]!;
    return {
      id: randomUUID(),
      kind: 'notification',
      payload: payload!,
      attempts: 1,
      subscription: args.literal
        ? { ...s, callback: s.callback.replace('//localhost:', '//127.0.0.1:') }
        : s,
    };
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const errors = await new Promise<number>((resolve) => {
    queue.load(messages, resolve);
    worker.kick();
  });
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: cpu.user + cpu.system, wallMs: performance.now() - t0, errors };
}

serve({
  queue,
  settle,
  bare,
  subscriptions: async () => ({
    secret: SECRET,
    targets: subscriptions.map((s) => ({
      path: new URL(s.callback).pathname,
      subscription: {
        id: s.id,
        status: s.status,
        type: s.type,
        version: s.version,
        condition: { broadcasterUserId: s.broadcaster_user_id },
        transport: { method: 'webhook', callback: s.callback },
        createdAt: s.created_at.toISOString(),
      },
    })),
    event: payload?.event,
  }),
});
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    await Promise.all(Object.values(bareWorkers).map((b) => b.worker.stop()));
    await service.server.close();
    await service.close();
    await platform.close();
    await rm(dataDir, { recursive: true, force: true });
    process.exit(0);
  })();
});
