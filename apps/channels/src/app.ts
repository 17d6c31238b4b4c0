import { lookup } from 'node:dns/promises';
import { OutboxRelay, type Subscription } from '@neon/bus';
import type { Queryable } from '@neon/db';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { channelsSpec, type ChannelsConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { adminCategoryRoutes } from './categories/admin-category.routes.js';
import { CategoryRepository } from './categories/category.repository.js';
import { ChannelRepository } from './channels/channel.repository.js';
import { channelRoutes } from './channels/channel.routes.js';
import { DeliveryWorker } from './eventsub/delivery.worker.js';
import { EventSubRepository } from './eventsub/eventsub.repository.js';
import { eventsubConsoleRoutes } from './eventsub/eventsub-console.routes.js';
import { eventsubRoutes } from './eventsub/eventsub.routes.js';
import { EventSubService, enqueueChannelUpdate } from './eventsub/eventsub.service.js';
import { registerEventSubMetrics } from './eventsub/metrics.js';
import type { Resolve } from './eventsub/callback.js';
import {
  subscribeAuthorizations,
  subscribeEventSub,
  subscribeProjections,
} from './events/subscribers.js';
import { followRoutes } from './follows/follow.routes.js';
import { MemoryFollowLimiter, RedisFollowLimiter } from './follows/rate-limit.js';
import { publicRoutes } from './public-api/public.routes.js';
import { roleRoutes } from './roles/role.routes.js';

export const SCHEMA = 'channels';

// The webhook machinery on its own, for bench:public (what it costs with and without its database).
export { DeliveryWorker, type DeliveryWorkerOptions } from './eventsub/delivery.worker.js';
export type { ClaimedMessage, EventSubRepository } from './eventsub/eventsub.repository.js';
export { enqueueFeedEvent, type FeedEvent } from './eventsub/eventsub.service.js';

/** Builds the channels service (channel metadata, follows, channel roles, directory and search) from its dependencies; never listens. */
export async function buildApp(platform: Platform, config: ChannelsConfig): Promise<Service> {
  const { logger, server } = await serviceServer(platform, {
    name: 'channels',
    schema: SCHEMA,
    migrations,
  });
  const repo = new ChannelRepository(platform.db);
  // One process owns every broadcast here: any still marked live ended with the previous run.
  if (platform.shape === 'embedded') await repo.clearLive();
  const limiter = platform.redis
    ? new RedisFollowLimiter(platform.redis)
    : new MemoryFollowLimiter();

  // Events are written with the change they describe; the relay publishes them, and retries
  // a failed publish, so a bus outage delays them rather than losing them.
  const relay = new OutboxRelay(platform.db, platform.bus, logger, { schema: SCHEMA });
  relay.registerMetrics(server.metrics);
  const publish = () =>
    relay.flush().catch((err: unknown) => {
      logger.warn({ err }, 'events wait in the outbox for the next try');
    });

  // Webhooks: a worker sends what the bus subscription and channel changes queue.
  const eventsubRepo = new EventSubRepository(platform.db);
  const policy = { allowHttpLoopback: config.CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK };
  const resolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });
  const worker = new DeliveryWorker({
    repo: eventsubRepo,
    logger,
    metrics: registerEventSubMetrics(server.metrics, () => eventsubRepo.depth()),
    policy,
    resolve,
    timeoutMs: config.CHANNELS_EVENTSUB_TIMEOUT_MS,
    retryMs: config.CHANNELS_EVENTSUB_RETRY_MS,
    retryMaxMs: config.CHANNELS_EVENTSUB_RETRY_MAX_MS,
    giveUpMs: config.CHANNELS_EVENTSUB_GIVE_UP_MS,
    intervalMs: config.CHANNELS_EVENTSUB_WORKER_INTERVAL_MS,
  });
  const kick = () => worker.kick();
  const onChange = {
    saving: async (q: Queryable, userId: string) => {
      await enqueueChannelUpdate(q, userId);
    },
    saved: kick,
  };
  const eventsub = new EventSubService({
    repo: eventsubRepo,
    channels: repo,
    policy,
    resolve,
    timeoutMs: config.CHANNELS_EVENTSUB_TIMEOUT_MS,
    maxSubscriptions: config.CHANNELS_EVENTSUB_MAX_SUBSCRIPTIONS,
    kick,
  });

  await server.register(channelRoutes, { repo, onChange });
  await server.register(followRoutes, {
    repo,
    publish,
    limiter,
    limit: config.CHANNELS_FOLLOW_LIMIT,
    windowMs: config.CHANNELS_FOLLOW_WINDOW_SECONDS * 1000,
  });
  await server.register(roleRoutes, { repo, publish });
  await server.register(publicRoutes, { repo, publicUrl: platform.publicUrl, onChange });
  await server.register(eventsubRoutes, { service: eventsub });
  await server.register(eventsubConsoleRoutes, { service: eventsub });
  await server.register(adminCategoryRoutes, {
    categories: new CategoryRepository(platform.db),
  });

  let subscriptions: Subscription[] = [];
  return {
    name: 'channels',
    server,
    async start() {
      subscriptions = [
        ...(await subscribeProjections(platform.bus, platform.db, SCHEMA)),
        await subscribeEventSub(platform.bus, platform.db, SCHEMA, kick),
        await subscribeAuthorizations(platform.bus, platform.db, SCHEMA, kick),
      ];
      relay.start();
      worker.start();
    },
    async close() {
      await relay.stop();
      await Promise.all(subscriptions.map((s) => s.close()));
      await worker.stop();
    },
  };
}

export const channelsService: ServiceModule<typeof channelsSpec> = {
  name: 'channels',
  spec: channelsSpec,
  listen: (c) => ({ host: c.CHANNELS_HOST, port: c.CHANNELS_PORT }),
  build: buildApp,
};
