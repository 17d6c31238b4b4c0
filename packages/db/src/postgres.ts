import pg from 'pg';
import type { Db, Queryable, SqlValue } from './types.js';

// int8 and numeric come back as strings by default; counts and sizes here fit a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PostgresOptions {
  url: string;
  max?: number;
  applicationName?: string;
}

export function createPostgresDb(options: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'neon',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection must not take the process down.
  pool.on('error', () => undefined);

  const run = async <R extends object>(
    client: pg.Pool | pg.PoolClient,
    text: string,
    params?: readonly SqlValue[],
  ): Promise<R[]> => (await client.query<R>(text, params as unknown[] | undefined)).rows;

  return {
    kind: 'postgres',
    query: (text, params) => run(pool, text, params),
    async tx(fn) {
      const client = await pool.connect();
      const q: Queryable = { query: (text, params) => run(client, text, params) };
      try {
        await client.query('BEGIN');
        const result = await fn(q);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
