import { uuidv7, type EventData, type EventType } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { Gauge, type Registry } from 'prom-client';
import type { Bus, BusLogger } from './types.js';

/** The table a service's outbox lives in (`<schema>.outbox`), for its migrations. */
export function outboxTableSql(schema: string): string {
  return `CREATE TABLE ${schema}.outbox (
      id uuid PRIMARY KEY,
      type text NOT NULL,
      data jsonb NOT NULL,
      occurred_at timestamptz NOT NULL DEFAULT now()
    )`;
}

/**
 * Records an event in the same transaction as the change it describes, so a
 * crash between commit and publish, a bus outage, or a change made by a
 * command line with no bus still reaches the bus later.
 */
export async function enqueueEvent<T extends EventType>(
  q: Queryable,
  schema: string,
  type: T,
  data: EventData<T>,
): Promise<void> {
  await q.query(`INSERT INTO ${schema}.outbox (id, type, data) VALUES ($1, $2, $3)`, [
    uuidv7(),
    type,
    JSON.stringify(data),
  ]);
}

interface OutboxRow {
  id: string;
  type: EventType;
  data: EventData<EventType>;
  occurred_at: Date;
}

export interface OutboxRelayOptions {
  /** The schema whose `outbox` table is relayed. */
  schema: string;
  /** How often the outbox is retried when nothing kicks it. */
  intervalMs?: number;
}

/**
 * Publishes a schema's outbox in order, each event under its outbox id so
 * that a re-publish after a crash is deduplicated by consumers. Replicas
 * share the work through SKIP LOCKED; a failed publish stays in the table and
 * is retried on the next kick or tick.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly schema: string;
  private readonly intervalMs: number;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly logger: BusLogger,
    options: OutboxRelayOptions,
  ) {
    this.schema = options.schema;
    this.intervalMs = options.intervalMs ?? 1000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Publishes now (after a commit) instead of waiting for the next tick. */
  kick(): void {
    void this.flush().catch((err: unknown) =>
      this.logger.error({ err }, 'outbox relay failed; will retry'),
    );
  }

  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        while (await this.batch()) {
          /* drain */
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async batch(): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.query<OutboxRow>(
        `SELECT id, type, data, occurred_at FROM ${this.schema}.outbox
          ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`,
      );
      for (const row of rows) {
        await this.bus.publish(row.type, row.data, { id: row.id, occurredAt: row.occurred_at });
        await q.query(`DELETE FROM ${this.schema}.outbox WHERE id = $1`, [row.id]);
      }
      return rows.length === 100;
    });
  }

  /**
   * `bus_outbox_pending` and `bus_outbox_oldest_seconds`: the events this
   * schema has recorded and not yet handed to the bus, and how long the
   * oldest has waited (a bus outage shows here before any consumer lags),
   * read at scrape time.
   */
  registerMetrics(registry: Registry): void {
    let last: { pending: number; oldest: number } | null = null;
    let readAt = 0;
    const read = async () => {
      // Both gauges are collected in one scrape: one query serves them.
      if (Date.now() - readAt < 500) return last;
      readAt = Date.now();
      try {
        const [row] = await this.db.query<{ pending: number; oldest: number | null }>(
          `SELECT count(*)::int AS pending,
                  COALESCE(EXTRACT(EPOCH FROM now() - min(occurred_at)), 0)::float8 AS oldest
             FROM ${this.schema}.outbox`,
        );
        last = { pending: Number(row?.pending ?? 0), oldest: Number(row?.oldest ?? 0) };
      } catch {
        // A scrape must not fail because the database is slow: the gauges keep their last values.
      }
      return last;
    };
    const schema = this.schema;
    new Gauge({
      name: 'bus_outbox_pending',
      help: 'Events recorded in the outbox and not yet published to the bus',
      labelNames: ['schema'],
      registers: [registry],
      async collect() {
        const v = await read();
        if (v) this.set({ schema }, v.pending);
      },
    });
    new Gauge({
      name: 'bus_outbox_oldest_seconds',
      help: 'How long the oldest event in the outbox has waited to be published (0: none waits)',
      labelNames: ['schema'],
      registers: [registry],
      async collect() {
        const v = await read();
        if (v) this.set({ schema }, v.oldest);
      },
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
