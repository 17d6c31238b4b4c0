import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Bus } from '@neon/bus';
import type { Problem } from '@neon/contracts';
import {
  clientHeaders,
  createLogger,
  loadConfig,
  uuidv7,
  type Client,
  type Logger,
} from '@neon/kit';
import type { Platform, Service } from '@neon/platform';
import { stackVariants, uniqueName, waitFor, type Stack } from '@neon/testing';
import { buildApp } from '../src/app.js';
import { channelsSpec } from '../src/config.js';

export interface Harness {
  app: Service;
  platform: Platform;
  bus: Bus;
  as(client: Client): Record<string, string>;
  /** A user identity has announced on the bus (its channel appears once channels consumed it). */
  register(name?: string, displayName?: string): Promise<Client>;
  close(): Promise<void>;
}

export interface OpenOptions {
  env?: Record<string, string>;
  /** Runs on the bus before the service starts (events it must catch up on). */
  before?: (bus: Bus) => Promise<void>;
  /** The bus the service is given, in place of the harness's own (which `bus` stays). */
  serviceBus?: (bus: Bus) => Bus;
}

export interface Variant {
  name: string;
  skip: string | false;
  open(options?: OpenOptions): Promise<Harness>;
}

export function newUser(name?: string): Client {
  return {
    id: uuidv7(),
    username: name ?? uniqueName('u').slice(0, 25).toLowerCase(),
    roles: ['user'],
  };
}

async function openWith(
  make: (logger: Logger) => Promise<Stack>,
  options: OpenOptions,
): Promise<Harness> {
  const logger = createLogger({ level: 'warn' });
  const { db, bus, redis, cleanup } = await make(logger);
  const platform: Platform = {
    shape: 'embedded',
    logger,
    db,
    bus: options.serviceBus ? options.serviceBus(bus) : bus,
    redis,
    internalSecret: randomBytes(32).toString('base64url'),
    dataDir: '/nonexistent',
    publicUrl: 'http://localhost:8080',
  };
  await options.before?.(bus);
  const config = loadConfig(channelsSpec, options.env ?? {});
  const app = await buildApp(platform, config);
  await app.server.ready();
  await app.start?.();
  return {
    app,
    platform,
    bus,
    as: (client) => clientHeaders(client, platform.internalSecret),
    async register(name, displayName) {
      const user = newUser(name);
      await bus.publish('identity.user.registered.v1', {
        userId: user.id,
        username: user.username,
        displayName: displayName ?? user.username,
        createdAt: new Date().toISOString(),
      });
      return user;
    },
    async close() {
      await app.server.close();
      await app.close();
      await cleanup();
    },
  };
}

/** The embedded engines always; PostgreSQL + NATS + Redis when their URLs are set. */
export function variants(): Variant[] {
  return stackVariants('channels').map((v) => ({
    name: v.name,
    skip: v.skip,
    open: (options = {}) => openWith((logger) => v.open(logger), options),
  }));
}

/** An answer that is a problem+json with this status and code. */
export function assertProblem(
  res: { statusCode: number; body: string; headers: Record<string, unknown> },
  status: number,
  code: string,
): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  assert.equal((JSON.parse(res.body) as Problem).code, code, res.body);
}

/** Waits until channels has handled `event` (its consumer recorded it as processed). */
export async function handled(h: Harness, event: { id: string }, what: string): Promise<void> {
  await waitFor(
    async () =>
      (
        await h.platform.db.query(`SELECT 1 FROM channels._processed_events WHERE event_id = $1`, [
          event.id,
        ])
      ).length === 1,
    { what },
  );
}
