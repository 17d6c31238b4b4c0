import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Db, Queryable, SqlValue } from './types.js';

export interface PgliteOptions {
  /** A folder on disk; omitted, the database lives in memory. */
  dataDir?: string;
  /** A tarball of an initialised data directory to start from instead of running initdb. */
  template?: Blob;
  /**
   * How often to VACUUM, in ms (0: never). PGlite runs no autovacuum worker,
   * so the space of deleted rows (the outbox, webhook messages, sessions) is
   * never reused and the files only grow. Default: every 10 minutes for a
   * database on disk, never for one in memory.
   */
  vacuumEveryMs?: number;
}

const VACUUM_EVERY_MS = 10 * 60_000;

/**
 * Embedded PostgreSQL (WASM). One instance per data folder and process: the
 * embedded launcher opens it once and hands it to every service, each of
 * which keeps to its own schema.
 */
export async function createPgliteDb(options: PgliteOptions): Promise<Db> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // pg_trgm is offered so a schema may CREATE EXTENSION it, as on PostgreSQL (channel search).
  const pg = await PGlite.create(options.dataDir ?? 'memory://', {
    extensions: { pg_trgm },
    loadDataDir: options.template,
  });
  const normalise = (params?: readonly SqlValue[]) => params as unknown[] | undefined;
  // PGlite answers one statement at a time; callers outside a transaction
  // must not interleave with one that is open.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  let closed = false;
  const every = options.vacuumEveryMs ?? (options.dataDir ? VACUUM_EVERY_MS : 0);
  const vacuum =
    every > 0
      ? setInterval(() => {
          // Queued behind whatever is running, like any statement; a failure is tried next time.
          serial(() => pg.query('VACUUM')).catch(() => undefined);
        }, every)
      : null;
  vacuum?.unref();
  return {
    kind: 'pglite',
    query: <R extends object>(text: string, params?: readonly SqlValue[]) =>
      serial(async () => (await pg.query<R>(text, normalise(params))).rows),
    tx: <T>(fn: (q: Queryable) => Promise<T>) =>
      serial(() =>
        pg.transaction(async (t) => {
          const q: Queryable = {
            query: async <R extends object>(text: string, params?: readonly SqlValue[]) =>
              (await t.query<R>(text, normalise(params))).rows,
          };
          return fn(q);
        }),
      ),
    async ping() {
      await serial(() => pg.query('SELECT 1'));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (vacuum) clearInterval(vacuum);
      await serial(() => pg.close());
    },
  };
}
