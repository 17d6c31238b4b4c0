import type { Subscription } from '@neon/bus';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
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
  const hub = new StreamHub({
    repo,
    bus: platform.bus,
    logger,
    heartbeatMs: config.NOTIFY_HEARTBEAT_SECONDS * 1000,
    viewersIntervalMs: config.NOTIFY_VIEWERS_INTERVAL_SECONDS * 1000,
  });
  await server.register(streamRoutes, {
    repo,
    hub,
    perUser: config.NOTIFY_STREAMS_PER_USER,
    maxBuffered: config.NOTIFY_STREAM_BUFFER_BYTES,
    replayWaitMs: 2 * config.NOTIFY_HEARTBEAT_SECONDS * 1000,
  });
  // Open streams would hold the server's close open forever.
  server.addHook('preClose', () => hub.close());

  let subscriptions: Subscription[] = [];
  return {
    name: 'notify',
    server,
    async start() {
      await hub.start();
      subscriptions = await subscribeNotifications(platform.bus, platform.db, SCHEMA, logger);
    },
    async close() {
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
