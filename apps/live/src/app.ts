import { join } from 'node:path';
import type { Subscription } from '@neon/bus';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { liveSpec, type LiveConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { BroadcastManager } from './broadcasts/broadcast-manager.js';
import { mediaPipelineFactory } from './broadcasts/media-pipeline.js';
import { RtmpIngestServer } from './ingest/rtmp-server.js';
import { mediaFastPath, serveFirst } from './origin/fast-path.js';
import { originRoutes } from './origin/origin.routes.js';
import { ChannelRepository } from './stream-keys/channel.repository.js';
import { KeySealer } from './stream-keys/stream-key.js';
import { loadKeySecret, StreamKeyService } from './stream-keys/stream-key.service.js';
import { streamKeyRoutes } from './stream-keys/stream-key.routes.js';
import { streamRoutes } from './stream/stream.routes.js';
import { subscribeUsers } from './users/users.subscriber.js';
import { MemoryViewerCounter, RedisViewerCounter } from './viewers/viewer-counter.js';
import { ViewersService } from './viewers/viewers.service.js';
import { VideoRepository } from './vod/video.repository.js';
import { videoRoutes } from './vod/video.routes.js';

export const SCHEMA = 'live';

/** The live service plus what only it has: an RTMP listener. */
export interface LiveService extends Service {
  /** The RTMP port actually bound (useful with RTMP_PORT=0); null before start. */
  rtmpPort(): number | null;
  broadcasts: BroadcastManager;
}

/** Builds the live service (RTMP ingest, transcoding, CMAF packaging, LL-HLS/DASH origin, VOD, viewer counts) from its dependencies; never listens. */
export async function buildApp(platform: Platform, config: LiveConfig): Promise<LiveService> {
  const { logger, server } = await serviceServer(platform, {
    name: 'live',
    schema: SCHEMA,
    migrations,
  });

  const mediaDir = config.MEDIA_DIR ?? join(platform.dataDir, 'media');
  const channels = new ChannelRepository(platform.db);
  const videos = new VideoRepository(platform.db);
  const sealer = new KeySealer(
    loadKeySecret(config.STREAM_KEY_SECRET, join(platform.dataDir, 'live', 'stream-key.secret')),
  );
  const keys = new StreamKeyService(channels, sealer);
  if (platform.shape === 'embedded') {
    // One process owns every broadcast here: any still open was cut short by a crash.
    const orphans = await videos.closeOrphans();
    if (orphans.length > 0)
      logger.warn({ broadcasts: orphans }, 'closed broadcasts left open by a previous run');
  }

  const broadcasts = new BroadcastManager({
    logger,
    bus: platform.bus,
    videos,
    mediaDir,
    graceMs: config.RECONNECT_GRACE_SECONDS * 1000,
    takeoverSilenceMs: config.INGEST_TAKEOVER_SILENCE_MS,
    stallEndMs: config.INGEST_STALL_END_MS,
    limits: {
      maxWidth: config.INGEST_MAX_WIDTH,
      maxHeight: config.INGEST_MAX_HEIGHT,
      maxBitrateKbps: config.INGEST_MAX_BITRATE_KBPS,
    },
    createPipeline: mediaPipelineFactory({
      ffmpegPath: config.FFMPEG_PATH,
      logger,
      partTargetMs: config.HLS_PART_TARGET_MS,
      ladderDrainMs: config.LIVE_LADDER_DRAIN_MS,
    }),
  });
  const windowMs = config.VIEWER_WINDOW_SECONDS * 1000;
  const counter = platform.redis
    ? new RedisViewerCounter(platform.redis, windowMs)
    : new MemoryViewerCounter(windowMs);
  const viewers = new ViewersService(
    counter,
    platform.bus,
    logger,
    config.VIEWER_PUBLISH_INTERVAL_SECONDS * 1000,
    () => broadcasts.all().map((b) => ({ channel: b.channel, broadcastId: b.id })),
  );
  broadcasts.on((e) => {
    if (e.type === 'ended' || e.type === 'failed') void viewers.reset(e.channel);
  });

  const rtmp = new RtmpIngestServer({
    logger,
    keys,
    broadcasts,
    timeouts: {
      handshakeMs: config.RTMP_HANDSHAKE_TIMEOUT_MS,
      publishMs: config.RTMP_PUBLISH_TIMEOUT_MS,
    },
    pending: {
      perAddress: config.RTMP_MAX_PENDING_PER_ADDRESS,
      total: config.RTMP_MAX_PENDING_CONNECTIONS,
    },
    publishBackoffMaxMs: config.RTMP_PUBLISH_BACKOFF_MAX_SECONDS * 1000,
  });
  const rtmpUrl = (): string => {
    if (config.RTMP_PUBLIC_URL) return config.RTMP_PUBLIC_URL;
    const host = new URL(platform.publicUrl).hostname;
    const port = rtmp.port() ?? config.RTMP_PORT;
    return `rtmp://${host}${port === 1935 ? '' : `:${port}`}/live`;
  };

  await server.register(streamKeyRoutes, { keys, broadcasts, rtmpUrl });
  await server.register(streamRoutes, { keys, channels, videos, broadcasts, viewers });
  await server.register(originRoutes, { broadcasts, viewers });
  // Parts and segments in memory are answered before Fastify (the hot path of playback).
  const fastPath = serveFirst(server.server, mediaFastPath(broadcasts));
  server.addHook('preClose', async () => fastPath.closing());
  await server.register(videoRoutes, { videos, channels, broadcasts, mediaDir });

  let users: Subscription | null = null;
  return {
    name: 'live',
    server,
    broadcasts,
    rtmpPort: () => rtmp.port(),
    async start() {
      users = await subscribeUsers(platform.bus, platform.db, SCHEMA);
      await rtmp.listen(config.RTMP_HOST, config.RTMP_PORT);
      logger.info({ port: rtmp.port() }, 'RTMP ingest listening');
      viewers.start();
    },
    async close() {
      viewers.close();
      await rtmp.close();
      await broadcasts.close();
      await users?.close();
    },
  };
}

/** Whether a service is the live one (the launcher prints its RTMP port). */
export function isLiveService(service: Service): service is LiveService {
  return (
    service.name === 'live' && typeof (service as Partial<LiveService>).rtmpPort === 'function'
  );
}

export const liveService: ServiceModule<typeof liveSpec> = {
  name: 'live',
  spec: liveSpec,
  listen: (c) => ({ host: c.LIVE_HOST, port: c.LIVE_PORT }),
  build: buildApp,
};
