import { randomBytes } from 'node:crypto';
import type { Bus } from '@neon/bus';
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
import { notifySpec } from '../src/config.js';

export interface Harness {
  app: Service;
  platform: Platform;
  bus: Bus;
  as(client: Client): Record<string, string>;
  /** `follower` follows `channel` (as channels announces it). */
  follow(follower: Client, channel: Client): Promise<void>;
  unfollow(follower: Client, channel: Client): Promise<void>;
  /** `channel` starts broadcasting: the broadcast's id and the event's. */
  goLive(
    channel: Client,
    options?: { broadcastId?: string; title?: string; at?: Date; eventId?: string },
  ): Promise<{ broadcastId: string; eventId: string }>;
  /** Resolves once notify has handled the event with this id. */
  handled(eventId: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  env?: Record<string, string>;
  /** Runs on the bus before the service starts (events it must catch up on). */
  before?: (bus: Bus) => Promise<void>;
  /** The bus as the service sees it (the harness publishes on the real one). */
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
  const config = loadConfig(notifySpec, options.env ?? {});
  const app = await buildApp(platform, config);
  await app.server.ready();
  await app.start?.();
  return {
    app,
    platform,
    bus,
    as: (client) => clientHeaders(client, platform.internalSecret),
    async follow(follower, channel) {
      await bus.publish('channels.follow.created.v1', {
        channel: channel.username,
        channelId: channel.id,
        userId: follower.id,
        username: follower.username,
        followedAt: new Date().toISOString(),
      });
    },
    async unfollow(follower, channel) {
      await bus.publish('channels.follow.deleted.v1', {
        channel: channel.username,
        channelId: channel.id,
        userId: follower.id,
        username: follower.username,
      });
    },
    async goLive(channel, o = {}) {
      const broadcastId = o.broadcastId ?? uuidv7();
      const at = o.at ?? new Date();
      const event = await bus.publish(
        'live.stream.started.v1',
        {
          broadcastId,
          channel: channel.username,
          userId: channel.id,
          title: o.title ?? `${channel.username} live`,
          startedAt: at.toISOString(),
          renditions: ['720p'],
        },
        { occurredAt: at, ...(o.eventId ? { id: o.eventId } : {}) },
      );
      return { broadcastId, eventId: event.id };
    },
    async handled(eventId) {
      await waitFor(
        async () =>
          (await db.query(`SELECT 1 FROM notify._processed_events WHERE event_id = $1`, [eventId]))
            .length > 0,
        { what: `event ${eventId} handled` },
      );
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
  return stackVariants('notify').map((v) => ({
    name: v.name,
    skip: v.skip,
    open: (options = {}) => openWith((logger) => v.open(logger), options),
  }));
}
