import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { openBus, registerBusMetrics, type Bus } from '@neon/bus';
import { migrate, openDb, type Db, type Migration } from '@neon/db';
import {
  Closer,
  createLogger,
  createServer,
  type ConfigOf,
  type Logger,
  type Server,
} from '@neon/kit';
import type { platformSpec } from './config.js';

export type PlatformConfig = ConfigOf<typeof platformSpec>;

/** The engines a service runs on: one set per process. */
export interface Platform {
  shape: 'embedded' | 'distributed';
  logger: Logger;
  db: Db;
  bus: Bus;
  /** Null in the embedded shape: limits and presence then live in memory. */
  redis: Redis | null;
  internalSecret: string;
  dataDir: string;
  publicUrl: string;
}

/** One Neon service, built from a platform and its own config. */
export interface Service {
  name: string;
  /** The internal HTTP API (the gateway's upstream). */
  server: Server;
  /** Extra listeners and background work (RTMP, consumers), started after the server listens. */
  start?(): Promise<void>;
  /**
   * Ends long-lived work before the server closes: stops taking it and ends
   * what is open (sockets close with 1012), so closing never waits on a peer.
   * Called by whoever started the service, before `server.close()`.
   */
  drain?(): Promise<void>;
  /** Stops background work; the server is closed by whoever listened. */
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  name: string;
  config: PlatformConfig;
  logger?: Logger;
  shape: 'embedded' | 'distributed';
}

export async function openPlatform(
  options: OpenPlatformOptions,
): Promise<Platform & { close(): Promise<void> }> {
  const { config, name } = options;
  const logger =
    options.logger ?? createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name });
  const closer = new Closer();
  const db = await openDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    applicationName: name,
  });
  closer.add('db', () => db.close());
  const bus = await openBus({ natsUrl: config.NATS_URL, producer: name, logger });
  closer.add('bus', () => bus.close());
  let redis: Redis | null = null;
  if (config.REDIS_URL) {
    const r = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
    });
    r.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    await r.connect();
    redis = r;
    closer.add('redis', async () => {
      await r.quit().catch(() => r.disconnect());
    });
  }
  return {
    shape: options.shape,
    logger,
    db,
    bus,
    redis,
    internalSecret: config.INTERNAL_SECRET ?? randomBytes(32).toString('base64url'),
    dataDir: config.DATA_DIR,
    publicUrl: config.PUBLIC_URL,
    close: () => closer.close(),
  };
}

/** Readiness checks every service shares: its engines answer. */
export function addEngineChecks(server: Server, platform: Platform): void {
  server.readiness.set('database', () => platform.db.ping());
  server.readiness.set('bus', () => platform.bus.ping());
  const redis = platform.redis;
  if (redis) server.readiness.set('redis', () => redis.ping());
}

export interface ServiceServerOptions {
  name: string;
  /** Migrated before the server is returned, when given. */
  schema?: string;
  migrations?: readonly Migration[];
}

/**
 * What every service starts from: kit's server with this platform's logger
 * and internal secret, readiness checks on its engines, and its schema
 * brought up to date.
 */
export async function serviceServer(
  platform: Platform,
  options: ServiceServerOptions,
): Promise<{ logger: Logger; server: Server }> {
  const logger = platform.logger.child({ service: options.name });
  const server = createServer({
    name: options.name,
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: platform.shape === 'distributed',
  });
  addEngineChecks(server, platform);
  registerBusMetrics(server.metrics, platform.bus, options.name);
  if (options.schema) await migrate(platform.db, options.schema, options.migrations ?? []);
  return { logger, server };
}
