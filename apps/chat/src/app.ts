import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { chatSpec, type ChatConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { registerChatMetrics } from './metrics.js';
import { MemoryRateLimiter, RedisRateLimiter } from './domain/rate-limit.js';
import { subscribeProjections } from './events/projections.js';
import { subscribeSessionEnds } from './events/sessions.js';
import { ChatService } from './rooms/chat.service.js';
import { natsFanout, soloFanout, type Fanout } from './rooms/fanout.js';
import { FollowBook, subscribeFollows } from './rooms/follows.js';
import { RoomRegistry } from './rooms/room.js';
import { SubscriberBook, subscribeSubscriptions } from './rooms/subscribers.js';
import { moderationLogRoutes } from './routes/moderation-log.routes.js';
import { publicApiRoutes } from './routes/public-api.routes.js';
import { MemorySocketQuota, RedisSocketQuota } from './socket/socket-quota.js';
import { SocketServer } from './socket/socket-server.js';
import { ChatRepository } from './store/chat.repository.js';
import type { Subscription } from '@neon/bus';

export const SCHEMA = 'chat';

/** Builds the chat service (chat rooms over WebSocket (Phoenix Channels V2), history and moderation) from its dependencies; never listens. */
export async function buildApp(platform: Platform, config: ChatConfig): Promise<Service> {
  const { logger, server } = await serviceServer(platform, {
    name: 'chat',
    schema: SCHEMA,
    migrations,
  });

  const repo = new ChatRepository(platform.db);
  const rooms = new RoomRegistry(repo);
  const limiter = platform.redis ? new RedisRateLimiter(platform.redis) : new MemoryRateLimiter();
  const follows = new FollowBook(platform.db);
  const subscribers = new SubscriberBook(platform.db);
  const chat = new ChatService({
    repo,
    rooms,
    limiter,
    config,
    logger,
    bus: platform.bus,
    follows,
    subscribers,
  });
  const sockets = new SocketServer({
    chat,
    logger,
    internalSecret: platform.internalSecret,
    maxBufferedBytes: config.CHAT_MAX_BUFFERED_BYTES,
    heartbeatTimeoutMs: config.CHAT_HEARTBEAT_TIMEOUT_MS,
    maxJoinsPerSocket: config.CHAT_MAX_JOINS_PER_SOCKET,
    maxSocketsPerUser: config.CHAT_MAX_SOCKETS_PER_USER,
    quota: platform.redis ? new RedisSocketQuota(platform.redis, 60_000) : new MemorySocketQuota(),
  });
  server.server.on('upgrade', sockets.handleUpgrade);
  registerChatMetrics(server.metrics, sockets, chat);
  // Sockets close (after draining) before the HTTP server stops, whoever closes it;
  // the drained messages' events go out before the platform closes the bus.
  server.addHook('preClose', async () => {
    await sockets.close();
    await chat.eventsPublished();
  });

  await server.register(moderationLogRoutes, { rooms, repo });
  await server.register(publicApiRoutes, { chat });

  let fanout: Fanout = soloFanout;
  if (config.NATS_URL) {
    fanout = await natsFanout(
      config.NATS_URL,
      config.CHAT_FANOUT_SUBJECT,
      (m) => {
        chat.received(m).catch((err: unknown) => logger.error({ err }, 'fan-out delivery failed'));
      },
      (err) => logger.error({ err }, 'fan-out failed'),
    );
  }
  chat.fanout = fanout;
  let subscriptions: Subscription[] = [];

  return {
    name: 'chat',
    server,
    async start() {
      subscriptions = [
        ...(await subscribeProjections(platform.bus, platform.db, SCHEMA, repo, chat)),
        await subscribeSessionEnds(platform.bus, sockets, logger),
        await subscribeFollows(platform.bus, platform.db, SCHEMA, (channel, userId, since) =>
          chat.followChanged(channel, userId, since),
        ),
        ...(await subscribeSubscriptions(platform.bus, platform.db, SCHEMA, subscribers)),
      ];
    },
    async drain() {
      await sockets.close();
      await chat.eventsPublished();
    },
    async close() {
      await sockets.close();
      await chat.eventsPublished();
      for (const s of subscriptions) await s.close();
      await fanout.close();
    },
  };
}

export const chatService: ServiceModule<typeof chatSpec> = {
  name: 'chat',
  spec: chatSpec,
  listen: (c) => ({ host: c.CHAT_HOST, port: c.CHAT_PORT }),
  build: buildApp,
};
