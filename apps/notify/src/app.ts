import { OutboxRelay, type Subscription } from '@neon/bus';
import {
  MemoryConnectionQuota,
  RedisConnectionQuota,
  serviceServer,
  type Platform,
  type Service,
  type ServiceModule,
} from '@neon/platform';
import { notifySpec, type NotifyConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { subscribeNotifications } from './events/subscribers.js';
import { NotificationRepository } from './notifications/notification.repository.js';
import { notificationRoutes } from './notifications/notification.routes.js';
import { StreamHub } from './stream/hub.js';
import { streamRoutes } from './stream/stream.routes.js';

export const SCHEMA = 'notify';

/** Builds the notify service (stored notifications, and pushes to browsers over SSE) from its dependencies; never listens. */
export async function buildApp(platform: Platform, config: NotifyConfig): Promise<Service> {
  const { logger, server } = await serviceServer(platform, {
    name: 'notify',
    schema: SCHEMA,
    migrations,
  });
  const repo = new NotificationRepository(platform.db);
  await server.register(notificationRoutes, { repo });
  // Shared through Redis in the distributed shape: the cap holds across replicas. A replica
  // renews its streams every heartbeat; one that dies stops counting within the lease.
  const quota = platform.redis
    ? new RedisConnectionQuota(
        platform.redis,
        Math.max(60_000, 3 * config.NOTIFY_HEARTBEAT_SECONDS * 1000),
        'neon:notify:streams:',
      )
    : new MemoryConnectionQuota();
  const hub = new StreamHub({
    repo,
    quota,
    bus: platform.bus,
    logger,
    heartbeatMs: config.NOTIFY_HEARTBEAT_SECONDS * 1000,
    viewersIntervalMs: config.NOTIFY_VIEWERS_INTERVAL_SECONDS * 1000,
  });
  await server.register(streamRoutes, {
    repo,
    hub,
    quota,
    perUser: config.NOTIFY_STREAMS_PER_USER,
    maxBuffered: config.NOTIFY_STREAM_BUFFER_BYTES,
    replayWaitMs: 2 * config.NOTIFY_HEARTBEAT_SECONDS * 1000,
  });
  // Open streams would hold the server's close open forever.
  server.addHook('preClose', () => hub.close());

  // Fan-out pages are queued with the went-live gate; the relay publishes them, retrying on failure.
  const relay = new OutboxRelay(platform.db, platform.bus, logger, { schema: SCHEMA });
  relay.registerMetrics(server.metrics);
  let subscriptions: Subscription[] = [];
  return {
    name: 'notify',
    server,
    async start() {
      await hub.start();
      subscriptions = await subscribeNotifications({
        bus: platform.bus,
        db: platform.db,
        schema: SCHEMA,
        logger,
        relay,
        fanoutPageSize: config.NOTIFY_FANOUT_PAGE_SIZE,
        connectedWritten: (key) => hub.connectedWritten(key),
      });
      relay.start();
    },
    async close() {
      await relay.stop();
      await hub.close();
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}

export const notifyService: ServiceModule<typeof notifySpec> = {
  name: 'notify',
  spec: notifySpec,
  listen: (c) => ({ host: c.NOTIFY_HOST, port: c.NOTIFY_PORT }),
  build: buildApp,
};
