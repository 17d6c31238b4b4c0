import type { Db, Migration } from './types.js';

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export interface MigrationResult {
  applied: string[];
}

/**
 * Brings a service's schema up to date: forward-only, in id order, each in
 * the same transaction as its bookkeeping row, all under an advisory lock so
 * replicas starting together apply each migration once.
 */
export async function migrate(
  db: Db,
  schema: string,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const ids = migrations.map((m) => m.id);
  const sorted = [...ids].sort();
  if (ids.some((id, i) => id !== sorted[i]) || new Set(ids).size !== ids.length) {
    throw new Error(`migrations of ${schema} must have unique ids in ascending order`);
  }
  return db.tx(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`neon.migrate.${schema}`]);
    await q.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await q.query(
      `CREATE TABLE IF NOT EXISTS ${schema}._migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await q.query(
      `CREATE TABLE IF NOT EXISTS ${schema}._processed_events (
         consumer text NOT NULL,
         event_id text NOT NULL,
         processed_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (consumer, event_id)
       )`,
    );
    const done = new Set(
      (await q.query<{ id: string }>(`SELECT id FROM ${schema}._migrations`)).map((r) => r.id),
    );
    const unknown = [...done].filter((id) => !ids.includes(id));
    if (unknown.length > 0) {
      throw new Error(`${schema} has migrations this build does not know: ${unknown.join(', ')}`);
    }
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      if (typeof m.up === 'string') await q.query(m.up);
      else await m.up(q);
      await q.query(`INSERT INTO ${schema}._migrations (id) VALUES ($1)`, [m.id]);
      applied.push(m.id);
    }
    return { applied };
  });
}
