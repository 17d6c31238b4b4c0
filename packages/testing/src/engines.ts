import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresDb, type Db } from '@neon/db';
import { openPglite } from './pglite.js';

/**
 * The real engines of this machine, as CI passes them in. Under CI a missing
 * engine is a failure, never a silent skip.
 */
export interface Engines {
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  redisUrl: string | undefined;
}

export function engines(): Engines {
  const e: Engines = {
    databaseUrl: process.env.TEST_DATABASE_URL || undefined,
    natsUrl: process.env.TEST_NATS_URL || undefined,
    redisUrl: process.env.TEST_REDIS_URL || undefined,
  };
  if (process.env.CI === 'true') {
    const missing = Object.entries({
      TEST_DATABASE_URL: e.databaseUrl,
      TEST_NATS_URL: e.natsUrl,
      TEST_REDIS_URL: e.redisUrl,
    })
      .filter(([, v]) => !v)
      .map(([k]) => k);
    if (missing.length > 0)
      throw new Error(`CI requires real engines; unset: ${missing.join(', ')}`);
  }
  return e;
}

/** Why a suite for an engine is skipped outside CI, or false to run it. */
export function skipUnless(url: string | undefined, variable: string): string | false {
  return url ? false : `${variable} is not set`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A throwaway database on the test PostgreSQL server, so suites never share state. */
export async function createTestDatabase(baseUrl: string): Promise<TestDatabase> {
  const name = uniqueName('neon_t');
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface DbVariant {
  name: 'pglite' | 'postgres';
  skip: string | false;
  open(): Promise<{ db: Db; cleanup: () => Promise<void> }>;
}

/** Both database engines, for suites that must hold on each. */
export function dbVariants(): DbVariant[] {
  const { databaseUrl } = engines();
  return [
    {
      name: 'pglite',
      skip: false,
      async open() {
        const db = await openPglite();
        return { db, cleanup: () => db.close() };
      },
    },
    {
      name: 'postgres',
      skip: skipUnless(databaseUrl, 'TEST_DATABASE_URL'),
      async open() {
        const tdb = await createTestDatabase(databaseUrl!);
        const db = createPostgresDb({ url: tdb.url, max: 5 });
        return {
          db,
          async cleanup() {
            await db.close();
            await tdb.drop();
          },
        };
      },
    },
  ];
}

/** Removes a test run's JetStream stream (and its consumers). */
export async function deleteStream(natsUrl: string, name: string): Promise<void> {
  const { connect } = await import('nats');
  const nc = await connect({ servers: natsUrl.replace(/^nats:\/\//, '') });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(name.toUpperCase()).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
