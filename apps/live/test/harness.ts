import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { JetStreamBus, MemoryBus, type Bus } from '@neon/bus';
import { createPgliteDb, createPostgresDb, type Db } from '@neon/db';
import { clientHeaders, createLogger, loadConfig, uuidv7, type Client } from '@neon/kit';
import type { Platform } from '@neon/platform';
import { createTestDatabase, deleteStream, engines, skipUnless, uniqueName } from '@neon/testing';
import { buildApp, type LiveService } from '../src/app.js';
import { liveSpec } from '../src/config.js';

export interface Harness {
  live: LiveService;
  platform: Platform;
  dataDir: string;
  /** Every line logged at warn or above so far, parsed. */
  logs(): Record<string, unknown>[];
  as(client: Client): Record<string, string>;
  user(name?: string): Client;
  close(): Promise<void>;
}

export interface Variant {
  name: string;
  skip: string | false;
  open(env?: Record<string, string>): Promise<Harness>;
}

async function openWith(
  make: () => Promise<{ db: Db; bus: Bus; redis: Redis | null; cleanup: () => Promise<void> }>,
  env: Record<string, string>,
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'neon-live-'));
  const { db, bus, redis, cleanup } = await make();
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete)
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      process.stdout.write(chunk);
      done();
    },
  });
  const platform: Platform = {
    shape: 'embedded',
    logger: createLogger({ level: 'warn', destination }),
    db,
    bus,
    redis,
    internalSecret: randomBytes(32).toString('base64url'),
    dataDir,
    publicUrl: 'http://localhost:8080',
  };
  const config = loadConfig(liveSpec, { RTMP_HOST: '127.0.0.1', RTMP_PORT: '0', ...env });
  const live = await buildApp(platform, config);
  await live.server.ready();
  await live.start?.();
  return {
    live,
    platform,
    dataDir,
    logs: () => [...lines],
    as: (client) => clientHeaders(client, platform.internalSecret),
    user: (name) => ({
      id: uuidv7(),
      username: name ?? uniqueName('u').slice(0, 25).toLowerCase(),
      roles: ['user'],
    }),
    async close() {
      await live.server.close();
      await live.close();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded engines always; PostgreSQL + NATS + Redis when their URLs are set. */
export function variants(): Variant[] {
  const e = engines();
  return [
    {
      name: 'PGlite + in-process bus + memory',
      skip: false,
      open: (env = {}) =>
        openWith(async () => {
          const db = await createPgliteDb({});
          const bus = new MemoryBus({ producer: 'live' });
          return {
            db,
            bus,
            redis: null,
            async cleanup() {
              await bus.close();
              await db.close();
            },
          };
        }, env),
    },
    {
      name: 'PostgreSQL + NATS + Redis',
      skip:
        skipUnless(e.databaseUrl, 'TEST_DATABASE_URL') ||
        skipUnless(e.natsUrl, 'TEST_NATS_URL') ||
        skipUnless(e.redisUrl, 'TEST_REDIS_URL'),
      open: (env = {}) =>
        openWith(async () => {
          const tdb = await createTestDatabase(e.databaseUrl!);
          const db = createPostgresDb({ url: tdb.url, max: 5 });
          const namespace = uniqueName('LIVE').toUpperCase();
          const bus = await JetStreamBus.connect({ url: e.natsUrl!, producer: 'live', namespace });
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
        }, env),
    },
  ];
}
