import type { Db, Queryable } from '@neon/db';

/**
 * Runs `fn` for an event at most once per consumer, in the same transaction
 * that records it as processed: a redelivery after a crash either finds the
 * record (and skips) or finds nothing done (and does it all).
 */
export async function handleOnce(
  db: Db,
  schema: string,
  consumer: string,
  eventId: string,
  fn: (q: Queryable) => Promise<void>,
): Promise<boolean> {
  return db.tx(async (q) => {
    const inserted = await q.query(
      `INSERT INTO ${schema}._processed_events (consumer, event_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [consumer, eventId],
    );
    if (inserted.length === 0) return false;
    await fn(q);
    return true;
  });
}

/** An in-memory guard against redelivered ids, for handlers with no database. */
export class SeenIds {
  private readonly seen = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  /** True the first time an id is offered. */
  first(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}
