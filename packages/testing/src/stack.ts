import { Redis } from 'ioredis';
import { JetStreamBus, MemoryBus, type Bus, type BusLogger } from '@neon/bus';
import { createPostgresDb, type Db } from '@neon/db';
import { openPglite } from './pglite.js';
import { createTestDatabase, deleteStream, engines, skipUnless, uniqueName } from './engines.js';

/** A database, a bus and (on the real engines) Redis for one service's suite, with their teardown. */
export interface Stack {
  db: Db;
  bus: Bus;
  redis: Redis | null;
  cleanup: () => Promise<void>;
}

export interface StackVariant {
  name: 'PGlite + in-process bus + memory' | 'PostgreSQL + NATS + Redis';
  skip: string | false;
  /** `logger` hears what the bus cannot hand to a caller: a handler that failed, an event dropped. */
  open(logger?: BusLogger): Promise<Stack>;
}

/**
 * The embedded engines always; PostgreSQL + NATS + Redis when their URLs are
 * set. Each open gets its own database, bus namespace and Redis key prefix.
 */
export function stackVariants(producer: string): StackVariant[] {
  const e = engines();
  return [
    {
      name: 'PGlite + in-process bus + memory',
      skip: false,
      async open(logger) {
        const db = await openPglite();
        const bus = new MemoryBus({ producer, ...(logger ? { logger } : {}) });
        return {
          db,
          bus,
          redis: null,
          async cleanup() {
            await bus.close();
            await db.close();
          },
        };
      },
    },
    {
      name: 'PostgreSQL + NATS + Redis',
      skip:
        skipUnless(e.databaseUrl, 'TEST_DATABASE_URL') ||
        skipUnless(e.natsUrl, 'TEST_NATS_URL') ||
        skipUnless(e.redisUrl, 'TEST_REDIS_URL'),
      async open(logger) {
        const tdb = await createTestDatabase(e.databaseUrl!);
        const db = createPostgresDb({ url: tdb.url, max: 5 });
        const namespace = uniqueName(producer.toUpperCase()).toUpperCase();
        const bus = await JetStreamBus.connect({
          url: e.natsUrl!,
          producer,
          namespace,
          ...(logger ? { logger } : {}),
        });
        const redis = new Redis(e.redisUrl!, { keyPrefix: `${namespace}:` });
        return {
          db,
          bus,
          redis,
          async cleanup() {
            await bus.close();
            await redis.quit();
            await db.close();
            await tdb.drop();
            await deleteStream(e.natsUrl!, namespace);
          },
        };
      },
    },
  ];
}
