import { OutboxRelay, type Subscription } from '@neon/bus';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { channelsSpec, type ChannelsConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { adminCategoryRoutes } from './categories/admin-category.routes.js';
import { CategoryRepository } from './categories/category.repository.js';
import { ChannelRepository } from './channels/channel.repository.js';
import { channelRoutes } from './channels/channel.routes.js';
import { subscribeProjections } from './events/subscribers.js';
import { followRoutes } from './follows/follow.routes.js';
import { MemoryFollowLimiter, RedisFollowLimiter } from './follows/rate-limit.js';
import { publicRoutes } from './public-api/public.routes.js';
import { roleRoutes } from './roles/role.routes.js';

export const SCHEMA = 'channels';

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
  const publish = () =>
    relay.flush().catch((err: unknown) => {
      logger.warn({ err }, 'events wait in the outbox for the next try');
    });

  await server.register(channelRoutes, { repo });
  await server.register(followRoutes, {
    repo,
    publish,
    limiter,
    limit: config.CHANNELS_FOLLOW_LIMIT,
    windowMs: config.CHANNELS_FOLLOW_WINDOW_SECONDS * 1000,
  });
  await server.register(roleRoutes, { repo, publish });
  await server.register(publicRoutes, { repo, publicUrl: platform.publicUrl });
  await server.register(adminCategoryRoutes, {
    categories: new CategoryRepository(platform.db),
  });

  let subscriptions: Subscription[] = [];
  return {
    name: 'channels',
    server,
    async start() {
      subscriptions = await subscribeProjections(platform.bus, platform.db, SCHEMA);
      relay.start();
    },
    async close() {
      await relay.stop();
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}

export const channelsService: ServiceModule<typeof channelsSpec> = {
  name: 'channels',
  spec: channelsSpec,
  listen: (c) => ({ host: c.CHANNELS_HOST, port: c.CHANNELS_PORT }),
  build: buildApp,
};
