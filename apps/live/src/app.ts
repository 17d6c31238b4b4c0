import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from '@neon/bus';
import { Counter, Gauge, type Registry } from '@neon/kit';
import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { liveSpec, type LiveConfig } from './config.js';
import { migrations } from './db/migrations/index.js';
import { BroadcastManager } from './broadcasts/broadcast-manager.js';
import { RedisHolderRegistry, soleHolder, type HolderRegistry } from './broadcasts/holders.js';
import { mediaPipelineFactory } from './broadcasts/media-pipeline.js';
import { RtmpIngestServer } from './ingest/rtmp-server.js';
import { mediaFastPath, serveFirst } from './origin/fast-path.js';
import { originRoutes } from './origin/origin.routes.js';
import { ChannelRepository } from './stream-keys/channel.repository.js';
import { KeySealer } from './stream-keys/stream-key.js';
import { loadKeySecret, StreamKeyService } from './stream-keys/stream-key.service.js';
import { streamKeyRoutes } from './stream-keys/stream-key.routes.js';
import { streamRoutes } from './stream/stream.routes.js';
import { StreamService } from './stream/stream.service.js';
import { subscribeStanding, subscribeUsers } from './users/users.subscriber.js';
import { MemoryViewerCounter, RedisViewerCounter } from './viewers/viewer-counter.js';
import { ViewersService } from './viewers/viewers.service.js';
import { VideoRepository } from './vod/video.repository.js';
import { recoverBroadcasts } from './vod/recovery.js';
import { videoRoutes } from './vod/video.routes.js';
import { VideoService } from './vod/video.service.js';
import { ObjectStore } from './vod/object-store.js';
import { RecordingUploader } from './vod/recording-uploader.js';

export const SCHEMA = 'live';

/** The live service plus what only it has: an RTMP listener. */
export interface LiveService extends Service {
  /** The RTMP port actually bound (useful with RTMP_PORT=0); null before start. */
  rtmpPort(): number | null;
  broadcasts: BroadcastManager;
  /** Moves recordings to the bucket; null without S3 settings. */
  uploader: RecordingUploader | null;
  videoService: VideoService;
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
    await recoverBroadcasts({ videos, mediaDir, logger, bus: platform.bus });
  }

  const holders: HolderRegistry = platform.redis
    ? new RedisHolderRegistry({
        redis: platform.redis,
        self: config.LIVE_ADVERTISE_URL ?? `http://${config.LIVE_HOST}:${config.LIVE_PORT}`,
        leaseMs: config.LIVE_HOLDER_LEASE_MS,
        logger,
        onLost: (channel) => broadcasts.lost(channel),
      })
    : soleHolder;
  const broadcasts = new BroadcastManager({
    holders,
    logger,
    bus: platform.bus,
    videos,
    mediaDir,
    graceMs: config.RECONNECT_GRACE_SECONDS * 1000,
    takeoverSilenceMs: config.INGEST_TAKEOVER_SILENCE_MS,
    stallEndMs: config.INGEST_STALL_END_MS,
    endedPlaylistMs: config.LIVE_ENDED_PLAYLIST_SECONDS * 1000,
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
      shed: config.LIVE_SHED && {
        minSpeed: config.LIVE_SHED_MIN_SPEED_PERCENT / 100,
        maxBacklogSeconds: config.LIVE_SHED_MAX_BACKLOG_MS / 1000,
        restoreAfterMs: config.LIVE_SHED_RESTORE_AFTER_MS,
        restoreHeadroom: config.LIVE_SHED_RESTORE_HEADROOM_PERCENT / 100,
      },
    }),
    capacityCores:
      ((config.LIVE_CAPACITY_CORES || availableParallelism()) * config.LIVE_CAPACITY_PERCENT) / 100,
    saturationHoldMs: config.LIVE_CAPACITY_HOLD_MS,
  });
  // Not ready means: do not send this replica new broadcasts. /healthz (liveness) stays 200,
  // and the broadcasts it carries keep being served.
  server.admission.set('capacity', async () => {
    const c = broadcasts.capacity();
    if (c.full)
      throw new Error(
        `full: ${c.broadcasts} broadcasts use ${c.loadCores} of ${c.capacityCores} cores${c.saturated > 0 ? `, ${c.saturated} behind real time at the lowest rung` : ''}${c.saturatedAgoMs !== null ? `, one behind real time at the lowest rung ${Math.round(c.saturatedAgoMs / 1000)} s ago` : ''}`,
      );
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
  const store = ObjectStore.fromConfig(config);
  const uploader = store
    ? new RecordingUploader({
        videos,
        store,
        mediaDir,
        logger,
        intervalMs: config.S3_UPLOAD_INTERVAL_MS,
      })
    : null;
  const videoService = new VideoService({
    videos,
    mediaDir,
    store,
    logger,
    retentionDays: config.VOD_RETENTION_DAYS,
  });
  broadcasts.on((e) => {
    if (e.type === 'ended' || e.type === 'failed') {
      void viewers.reset(e.channel);
      // The row says ended a moment after this event: the next tick takes what is left.
      uploader?.kick();
    }
  });
  registerLiveMetrics(server.metrics, broadcasts, viewers, uploader);

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
  const stream = new StreamService({ keys, channels, videos, broadcasts, bus: platform.bus });
  await server.register(streamRoutes, { keys, channels, videos, broadcasts, viewers, stream });
  await server.register(originRoutes, { broadcasts, viewers });
  // Parts and segments in memory are answered before Fastify (the hot path of playback).
  const fastPath = serveFirst(server.server, mediaFastPath(broadcasts));
  server.addHook('preClose', async () => fastPath.closing());
  await server.register(videoRoutes, {
    videos,
    service: videoService,
    channels,
    broadcasts,
    mediaDir,
    store,
    cacheBytes: config.VOD_CACHE_MB * 1024 * 1024,
  });

  let subscriptions: Subscription[] = [];
  return {
    name: 'live',
    server,
    broadcasts,
    uploader,
    videoService,
    rtmpPort: () => rtmp.port(),
    async start() {
      subscriptions = [
        await subscribeUsers(platform.bus, platform.db, SCHEMA),
        ...(await subscribeStanding(platform.bus, platform.db, (channel) =>
          broadcasts.endSuspended(channel),
        )),
      ];
      await rtmp.listen(config.RTMP_HOST, config.RTMP_PORT);
      logger.info({ port: rtmp.port() }, 'RTMP ingest listening');
      viewers.start();
      uploader?.start();
      videoService.start();
    },
    async close() {
      viewers.close();
      await rtmp.close();
      await broadcasts.close();
      await holders.close();
      await videoService.stop();
      // The broadcasts just ended go up now if they can; what cannot waits on disk for the next start.
      if (uploader) {
        await uploader.drain().catch(() => undefined);
        await uploader.stop();
      }
      store?.close();
      for (const s of subscriptions) await s.close();
    },
  };
}

/** Broadcasts, ingest, viewers, transcoder speed and rungs per broadcast, the replica's load and its refusals, read at scrape time. */
function registerLiveMetrics(
  registry: Registry,
  broadcasts: BroadcastManager,
  viewers: ViewersService,
  uploader: RecordingUploader | null,
): void {
  new Counter({
    name: 'live_recording_uploads_total',
    help: 'Recording files put into the bucket since start, by outcome (failed ones are retried)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'ok' }, uploader?.uploads ?? 0);
      this.inc({ outcome: 'failed' }, uploader?.failures ?? 0);
    },
  });
  new Gauge({
    name: 'live_recording_upload_backlog',
    help: 'Recording files kept on local disk after a failed upload, waiting for the retry',
    registers: [registry],
    collect() {
      this.set(uploader?.backlog ?? 0);
    },
  });
  const live = () => broadcasts.all().filter((b) => b.pipeline !== null);
  new Gauge({
    name: 'live_broadcasts',
    help: 'Broadcasts this replica carries (publishing, live, or in their reconnect grace window)',
    registers: [registry],
    collect() {
      this.set(broadcasts.all().length);
    },
  });
  new Counter({
    name: 'live_ingest_bytes_total',
    help: 'FLV bytes received from publishers since start (its rate is the ingest bitrate of the replica)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(broadcasts.ingestedBytes);
    },
  });
  new Gauge({
    name: 'live_ingest_bitrate_bits_per_second',
    help: 'Bitrate a publisher sends, measured over the last 5 s',
    labelNames: ['broadcast', 'channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of broadcasts.all()) {
        const stats = b.stats();
        if (stats) this.set({ broadcast: b.id, channel: b.channel }, stats.bitrateKbps * 1000);
      }
    },
  });
  new Gauge({
    name: 'live_viewers',
    help: "Players watching this replica's broadcasts, as last counted for the viewer-count event",
    registers: [registry],
    collect() {
      this.set(viewers.watching(broadcasts.all().map((b) => b.channel)));
    },
  });
  new Gauge({
    name: 'live_transcode_speed_ratio',
    help: 'Media seconds the transcode ladder produces per wall second over ~10 s (1 = real time)',
    labelNames: ['broadcast', 'channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of live()) {
        const speed = b.pipeline!.health().speed;
        if (speed !== null) this.set({ broadcast: b.id, channel: b.channel }, speed);
      }
    },
  });
  new Gauge({
    name: 'live_rungs_active',
    help: 'Encoded rungs a broadcast is producing (shed rungs excluded)',
    labelNames: ['broadcast', 'channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of live())
        this.set({ broadcast: b.id, channel: b.channel }, b.pipeline!.health().activeRungs.length);
    },
  });
  new Gauge({
    name: 'live_rungs_shed',
    help: 'Encoded rungs a broadcast has turned off to keep up with real time',
    labelNames: ['broadcast', 'channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of live())
        this.set({ broadcast: b.id, channel: b.channel }, b.pipeline!.health().shedRungs.length);
    },
  });
  new Gauge({
    name: 'live_transcode_load_cores',
    help: "CPU cores this replica's broadcasts use, and the capacity new ones are refused at",
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const c = broadcasts.capacity();
      this.set({ kind: 'load' }, c.loadCores);
      if (Number.isFinite(c.capacityCores)) this.set({ kind: 'capacity' }, c.capacityCores);
    },
  });
  new Counter({
    name: 'live_broadcasts_refused_total',
    help: 'Publishes refused since start, by code (LIVE_CAPACITY_FULL: the replica was full)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of broadcasts.refused) this.inc({ code }, n);
    },
  });
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
