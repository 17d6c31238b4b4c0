import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Bus } from '@neon/bus';
import type { IngestDisconnect } from '@neon/contracts';
import { uuidv7, type Logger } from '@neon/kit';
import type { VideoRepository, VideoRow } from '../vod/video.repository.js';
import { recoverBroadcast } from '../vod/recovery.js';
import { Admission, type CapacityReport } from './admission.js';
import { Broadcast, type Publisher } from './broadcast.js';
import { exceedsLimits, type DisconnectCause, type IngestLimits } from './ingest-limits.js';
import type { LivePipeline, PipelineFactory, SourceMeta } from './pipeline.js';
import { soleHolder, type HolderRegistry } from './holders.js';

export type PublishRefusal =
  'LIVE_ALREADY_PUBLISHING' | 'LIVE_CAPACITY_FULL' | 'SERVICE_UNAVAILABLE';

/** Typed transitions of a broadcast; `ended` and `failed` are final. */
export type BroadcastEvent =
  | { type: 'publishing'; broadcastId: string; channel: string; resumed: boolean }
  | { type: 'ready'; broadcastId: string; channel: string }
  | { type: 'unhealthy'; broadcastId: string; channel: string; reason: string }
  | { type: 'ended'; broadcastId: string; channel: string; durationSeconds: number }
  | { type: 'failed'; broadcastId: string; channel: string; reason: string };

const STOPPING_LADDER_DRAIN_MS = 3000;

export interface BroadcastManagerOptions {
  logger: Logger;
  bus: Bus;
  videos: VideoRepository;
  mediaDir: string;
  graceMs: number;
  /** A new publish replaces a publisher that has been silent longer than this. */
  takeoverSilenceMs: number;
  /** A publisher silent this long ends its broadcast. */
  stallEndMs: number;
  /**
   * After a clean end (the publisher stopped, the owner ended it, the key was
   * regenerated), how long its playlists stay answered, closed with ENDLIST,
   * so players watching see the end rather than an error. 0: gone at once.
   */
  endedPlaylistMs?: number;
  limits: IngestLimits;
  createPipeline: PipelineFactory;
  /** CPU cores the broadcasts of this replica may use together (cores × target share). */
  capacityCores?: number;
  /** After a broadcast was behind real time at its lowest rung, new ones are refused this long. */
  saturationHoldMs?: number;
  /** Which replica holds each channel; without one, this replica holds them all. */
  holders?: HolderRegistry;
}

/**
 * Owns every broadcast on this replica: one pipeline each, the grace window
 * for returning publishers, the events and the VOD row. Cleanup is idempotent.
 */
export class BroadcastManager {
  private readonly byChannel = new Map<string, Broadcast>();
  /** Broadcasts that ended cleanly, still served (ended) for `endedPlaylistMs`. */
  private readonly endedByChannel = new Map<string, Broadcast>();
  private readonly listeners = new Set<(e: BroadcastEvent) => void>();
  private readonly lastDisconnects = new Map<string, IngestDisconnect>();
  /** Broadcasts whose end is being stored: still open in the database, but not stale. */
  private readonly finishing = new Set<string>();
  private closed = false;
  private readonly watchdog: NodeJS.Timeout;
  /** New broadcasts refused since start, per code. */
  readonly refused = new Map<PublishRefusal, number>();
  /** FLV bytes taken from publishers since start: a plain sum the metrics read, nothing per tag beyond it. */
  ingestedBytes = 0;

  private readonly admission: Admission;

  constructor(private readonly o: BroadcastManagerOptions) {
    this.admission = new Admission(o.capacityCores ?? Infinity, o.saturationHoldMs ?? 0);
    // An encoder that freezes with its TCP connection open sends nothing and
    // never closes: without this its last parts would be served as live until
    // the RTMP idle timeout and the grace window had both run out.
    this.watchdog = setInterval(
      () => {
        this.endStalled();
        // Saturation is noticed between publishes too, so the hold counts from its last moment.
        this.capacity();
      },
      Math.max(100, Math.min(1000, o.stallEndMs / 5)),
    );
    this.watchdog.unref();
  }

  get limits(): IngestLimits {
    return this.o.limits;
  }

  on(fn: (e: BroadcastEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: BroadcastEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  get(channel: string): Broadcast | null {
    const b = this.byChannel.get(channel);
    return b && b.live ? b : null;
  }

  /**
   * What the origin serves for a channel: its live broadcast, or one that
   * ended cleanly within the last `endedPlaylistMs` (state `ended`, its
   * playlists closed with ENDLIST, no ffmpeg and no publisher behind it).
   */
  serving(channel: string): Broadcast | null {
    return this.get(channel) ?? this.endedByChannel.get(channel) ?? null;
  }

  all(): Broadcast[] {
    return [...this.byChannel.values()].filter((b) => b.live);
  }

  /** A publisher with a valid key wants to go live on `channel`. */
  async publish(
    channel: { userId: string; username: string; title: string },
    publisher: Publisher,
  ): Promise<
    { ok: true; broadcast: Broadcast; resumed: boolean } | { ok: false; code: PublishRefusal }
  > {
    if (this.closed) return this.refuse('SERVICE_UNAVAILABLE');
    const existing = this.get(channel.username);
    if (existing?.publisher) {
      const silentMs = existing.silentMs();
      if (silentMs <= this.o.takeoverSilenceMs) return this.refuse('LIVE_ALREADY_PUBLISHING');
      // The key is proof enough: an encoder that has stopped sending must not
      // keep its owner off the air until its connection times out. The same
      // broadcast continues after a discontinuity, so its VOD stays one video.
      const old = existing.publisher;
      existing.publisher = null;
      this.disconnect(
        existing,
        old,
        {
          code: 'LIVE_PUBLISHER_REPLACED',
          reason: `replaced by a new publish with the stream key after ${silentMs} ms without media`,
        },
        { silentMs },
      );
    }
    if (existing && !existing.ending) {
      const returning = existing.graceTimer !== null;
      if (existing.graceTimer) clearTimeout(existing.graceTimer);
      existing.graceTimer = null;
      existing.publisher = publisher;
      existing.lastMediaAt = Date.now();
      existing.pendingDiscontinuity = existing.pipeline !== null;
      if (returning)
        this.o.logger.info(
          { broadcastId: existing.id, channel: channel.username },
          'publisher returned within the grace window',
        );
      this.emit({
        type: 'publishing',
        broadcastId: existing.id,
        channel: channel.username,
        resumed: true,
      });
      return { ok: true, broadcast: existing, resumed: existing.pendingDiscontinuity };
    }
    // A returning or replacing publisher keeps its broadcast; only a new one needs room.
    const load = this.capacity();
    if (load.full) {
      this.o.logger.warn(
        { ...load, channel: channel.username, code: 'LIVE_CAPACITY_FULL' },
        'a new broadcast is refused: this replica is at capacity',
      );
      return this.refuse('LIVE_CAPACITY_FULL');
    }
    const id = uuidv7();
    const b = new Broadcast(
      id,
      channel.userId,
      channel.username,
      channel.title,
      new Date(),
      join(this.o.mediaDir, id),
    );
    b.publisher = publisher;
    this.byChannel.set(channel.username, b);
    // The channel's previous broadcast, if still served as ended, gives way to the new one.
    this.release(channel.username);
    let claimed: boolean;
    try {
      claimed = await this.holders.claim(b.channel, id);
    } catch (err) {
      this.byChannel.delete(channel.username);
      this.o.logger.error(
        { err, channel: b.channel },
        'could not claim the channel for this replica',
      );
      return this.refuse('SERVICE_UNAVAILABLE');
    }
    if (!claimed) {
      this.byChannel.delete(channel.username);
      this.o.logger.warn(
        { channel: b.channel, code: 'LIVE_ALREADY_PUBLISHING' },
        'a publish is refused: another live replica carries this channel',
      );
      return this.refuse('LIVE_ALREADY_PUBLISHING');
    }
    await this.closeStale(b);
    try {
      await this.o.videos.create({
        id,
        userId: b.userId,
        channel: b.channel,
        title: b.title,
        startedAt: b.startedAt,
      });
    } catch (err) {
      this.byChannel.delete(channel.username);
      this.holders.release(channel.username);
      this.o.logger.error({ err }, 'could not record a new broadcast');
      return this.refuse('SERVICE_UNAVAILABLE');
    }
    this.o.logger.info({ broadcastId: id, channel: b.channel }, 'broadcast publishing');
    this.emit({ type: 'publishing', broadcastId: id, channel: b.channel, resumed: false });
    return { ok: true, broadcast: b, resumed: false };
  }

  /**
   * This replica holds the channel now, so a broadcast of it still open in the
   * database, other than one this replica is ending, was left by a replica
   * that died (or by a crash of this one): it is closed, ended with its
   * recording when that is on this replica's disk, failed otherwise, and its
   * end announced, so the directory and the followers' pages show one broadcast.
   */
  private async closeStale(b: Broadcast): Promise<void> {
    let open: VideoRow[];
    try {
      open = await this.o.videos.listOpenOf(b.channel);
    } catch (err) {
      this.o.logger.error({ err, channel: b.channel }, 'could not look for stale broadcasts');
      return;
    }
    for (const v of open)
      if (v.id !== b.id && !this.finishing.has(v.id)) await recoverBroadcast(this.o, v);
  }

  private refuse(code: PublishRefusal): { ok: false; code: PublishRefusal } {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
    return { ok: false, code };
  }

  /** The measured cost of the broadcasts against the replica's capacity (see Admission). */
  capacity(): CapacityReport {
    const live = this.all().filter((b) => b.pipeline !== null);
    return this.admission.assess(
      this.all().length,
      live.map((b) => b.pipeline!.health()),
    );
  }

  /** Ends every broadcast whose publisher is connected but has sent nothing for too long. */
  private endStalled(now = Date.now()): void {
    for (const b of this.all()) {
      if (!b.publisher || b.ending) continue;
      const silentMs = b.silentMs(now);
      if (silentMs < this.o.stallEndMs) continue;
      const publisher = b.publisher;
      b.publisher = null;
      this.disconnect(
        b,
        publisher,
        {
          code: 'LIVE_INGEST_STALLED',
          reason: `no media for ${silentMs} ms; the broadcast ended`,
        },
        { silentMs },
      );
      void this.end(b, 'ended', 'ingest stalled');
    }
  }

  /** Whether a source is within the ingest limits; the reason when not. */
  checkLimits(source: SourceMeta): DisconnectCause | null {
    return exceedsLimits(source, this.o.limits);
  }

  /**
   * The server closes a publisher: logged at warn with the code and figures
   * (an encoder cut off must be explained at the default level) and kept as
   * the channel's last disconnect for its owner's dashboard.
   */
  disconnect(
    b: Broadcast,
    publisher: Publisher,
    cause: DisconnectCause,
    detail: Record<string, number> = {},
  ): void {
    this.lastDisconnects.set(b.channel, { at: new Date().toISOString(), ...cause });
    this.o.logger.warn(
      { ...cause, ...detail, broadcastId: b.id, channel: b.channel },
      'publisher disconnected by the server',
    );
    publisher.kick(cause.reason);
  }

  /** The last time this replica closed one of the channel's publishers. */
  lastDisconnect(channel: string): IngestDisconnect | null {
    return this.lastDisconnects.get(channel) ?? null;
  }

  /** FLV bytes from the publisher: starts the pipeline on the first ones. */
  write(b: Broadcast, flv: Uint8Array, source: SourceMeta): void {
    if (!b.live || b.ending) return;
    this.ingestedBytes += flv.byteLength;
    if (!b.pipeline) {
      b.source = source;
      this.startPipeline(b, source);
    } else if (b.pendingDiscontinuity) {
      b.pendingDiscontinuity = false;
      b.source = source;
      b.pipeline.discontinuity();
    }
    b.pipeline?.write(flv);
  }

  private startPipeline(b: Broadcast, source: SourceMeta): void {
    let pipeline: LivePipeline;
    try {
      pipeline = this.o.createPipeline({
        outputDir: b.outputDir,
        thumbnailPath: b.thumbnailPath,
        source,
      });
    } catch (err) {
      this.o.logger.error({ err, broadcastId: b.id }, 'pipeline failed to start');
      void this.end(b, 'failed', 'pipeline failed to start');
      return;
    }
    b.pipeline = pipeline;
    pipeline.onReady(() => {
      if (!b.live) return;
      const wasUnhealthy = b.state === 'unhealthy';
      b.state = 'ready';
      void this.o.videos
        .setState(b.id, 'ready')
        .catch((err: unknown) => this.o.logger.warn({ err }, 'could not store broadcast state'));
      this.emit({ type: 'ready', broadcastId: b.id, channel: b.channel });
      if (!b.announced) {
        b.announced = true;
        void this.announce(b);
      } else if (wasUnhealthy) this.o.logger.info({ broadcastId: b.id }, 'broadcast healthy again');
    });
    pipeline.onError((err) => {
      if (!b.live) return;
      this.o.logger.warn({ err, broadcastId: b.id }, 'pipeline error');
      if (b.state === 'ready') {
        b.state = 'unhealthy';
        void this.o.videos.setState(b.id, 'unhealthy').catch(() => undefined);
        this.emit({
          type: 'unhealthy',
          broadcastId: b.id,
          channel: b.channel,
          reason: err.message,
        });
      }
    });
    pipeline.onExit((unexpected) => {
      if (unexpected && b.live && !b.ending) void this.end(b, 'failed', 'pipeline exited');
    });
  }

  private async announce(b: Broadcast): Promise<void> {
    const renditions = b.renditions();
    try {
      await this.o.videos.setRenditions(b.id, renditions);
      await this.o.bus.publish('live.stream.started.v1', {
        broadcastId: b.id,
        channel: b.channel,
        userId: b.userId,
        title: b.title,
        startedAt: b.startedAt.toISOString(),
        renditions: renditions.map((r) => r.name),
      });
    } catch (err) {
      this.o.logger.error({ err, broadcastId: b.id }, 'could not announce the broadcast');
    }
  }

  /**
   * The publisher is gone. `unpublished`: it said so (FCUnpublish, deleteStream:
   * the streamer pressed stop), so the broadcast ends now. Otherwise its
   * connection dropped: wait for it within the grace window, then end.
   */
  publisherGone(b: Broadcast, publisher: Publisher, unpublished = false): void {
    if (b.publisher !== publisher) return;
    b.publisher = null;
    if (!b.live || b.ending) return;
    if (unpublished || this.o.graceMs <= 0 || this.closed) {
      void this.end(
        b,
        'ended',
        unpublished ? 'publisher unpublished' : 'publisher left',
        unpublished,
      );
      return;
    }
    this.o.logger.info(
      { broadcastId: b.id, graceMs: this.o.graceMs },
      'publisher left; waiting for it to return',
    );
    b.graceTimer = setTimeout(() => {
      b.graceTimer = null;
      if (!b.publisher) void this.end(b, 'ended', 'grace window elapsed');
    }, this.o.graceMs);
    b.graceTimer.unref();
  }

  /** Ends the live broadcast of a channel now (key regenerated): a clean end. */
  async endChannel(channel: string, reason: string): Promise<void> {
    const b = this.get(channel);
    if (b) await this.end(b, 'ended', reason, true);
  }

  /** The owner was suspended: the encoder is cut off and the broadcast ends; its recording is kept. */
  async endSuspended(channel: string): Promise<void> {
    const b = this.get(channel);
    if (!b) return;
    await this.cutOff(
      b,
      {
        code: 'LIVE_ACCOUNT_SUSPENDED',
        reason: 'the account was suspended; the broadcast ended',
      },
      'account suspended',
      true,
    );
  }

  /** The server ends a broadcast, and closes its publisher's connection saying why. */
  private async cutOff(
    b: Broadcast,
    cause: DisconnectCause,
    reason: string,
    clean: boolean,
  ): Promise<void> {
    const publisher = b.publisher;
    if (publisher) {
      b.publisher = null;
      this.disconnect(b, publisher, cause);
    }
    await this.end(b, 'ended', reason, clean);
  }

  /**
   * Idempotent: every caller awaits the same cleanup (the first one's reason
   * and `clean` stand). `clean`: the end was meant (publisher stopped, owner
   * ended it, key regenerated), so players are shown it for `endedPlaylistMs`;
   * a lost or stalled publisher, a failure or a stopping service are gone at once.
   */
  end(b: Broadcast, state: 'ended' | 'failed', reason: string, clean = false): Promise<void> {
    if (!b.ending) {
      this.finishing.add(b.id);
      b.ending = this.finish(b, state, reason, clean).finally(() => this.finishing.delete(b.id));
    }
    return b.ending;
  }

  /** Stops serving a channel's ended broadcast: its pipeline (parts, segments) can go. */
  private release(channel: string): void {
    const b = this.endedByChannel.get(channel);
    if (b === undefined) return;
    this.endedByChannel.delete(channel);
    if (b.endedTimer) clearTimeout(b.endedTimer);
    b.endedTimer = null;
    b.pipeline = null;
    this.releaseHolder(channel);
  }

  /** The channel is no longer served here at all: another replica may take it. */
  private releaseHolder(channel: string): void {
    if (!this.byChannel.has(channel) && !this.endedByChannel.has(channel))
      this.holders.release(channel);
  }

  private get holders(): HolderRegistry {
    return this.o.holders ?? soleHolder;
  }

  /**
   * Another replica holds the channel now (this one could not renew its
   * lease): whatever this replica serves of it stops, and its broadcast ends.
   */
  lost(channel: string): void {
    this.release(channel);
    const b = this.get(channel);
    if (!b) return;
    void this.cutOff(
      b,
      {
        code: 'LIVE_PUBLISHER_REPLACED',
        reason: 'another live replica carries this channel now; the broadcast ended here',
      },
      'channel lease lost',
      false,
    );
  }

  /** Keeps an ended broadcast's closed playlists answerable for `endedPlaylistMs`. */
  private keepServing(b: Broadcast): void {
    const ms = this.o.endedPlaylistMs ?? 0;
    if (ms <= 0 || this.closed || b.pipeline === null) return;
    this.release(b.channel);
    this.endedByChannel.set(b.channel, b);
    b.endedTimer = setTimeout(() => {
      if (this.endedByChannel.get(b.channel) === b) this.release(b.channel);
    }, ms);
    b.endedTimer.unref();
  }

  private async finish(
    b: Broadcast,
    state: 'ended' | 'failed',
    reason: string,
    clean: boolean,
  ): Promise<void> {
    if (b.graceTimer) clearTimeout(b.graceTimer);
    b.graceTimer = null;
    const publisher = b.publisher;
    b.publisher = null;
    publisher?.kick(reason);
    let durationSeconds = (Date.now() - b.startedAt.getTime()) / 1000;
    let masterPath: string | null = null;
    if (b.pipeline) {
      try {
        // A stopping service has seconds, not a minute: the recording is drained regardless.
        const result = await b.pipeline.end(
          this.closed ? { ladderDrainMs: STOPPING_LADDER_DRAIN_MS } : undefined,
        );
        durationSeconds = result.durationSeconds;
        masterPath = relative(b.outputDir, result.masterPath);
      } catch (err) {
        this.o.logger.warn({ err, broadcastId: b.id }, 'pipeline did not end cleanly');
      }
    }
    if (masterPath === null) durationSeconds = 0;
    b.state = state;
    if (this.byChannel.get(b.channel) === b) {
      this.byChannel.delete(b.channel);
      // The pipeline has ended (ffmpeg gone, every playlist closed with ENDLIST).
      if (state === 'ended' && clean && masterPath !== null) this.keepServing(b);
      this.releaseHolder(b.channel);
    }
    const endedAt = new Date();
    try {
      await this.o.videos.finish(b.id, {
        state,
        endedAt,
        durationSeconds,
        hasThumbnail: existsSync(b.thumbnailPath),
        masterPath,
      });
    } catch (err) {
      this.o.logger.error({ err, broadcastId: b.id }, 'could not store the end of a broadcast');
    }
    this.o.logger.info(
      { broadcastId: b.id, channel: b.channel, reason, durationSeconds },
      `broadcast ${state}`,
    );
    if (state === 'ended')
      this.emit({ type: 'ended', broadcastId: b.id, channel: b.channel, durationSeconds });
    else this.emit({ type: 'failed', broadcastId: b.id, channel: b.channel, reason });
    try {
      await this.o.bus.publish('live.stream.ended.v1', {
        broadcastId: b.id,
        channel: b.channel,
        userId: b.userId,
        startedAt: b.startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        durationSeconds,
      });
    } catch (err) {
      this.o.logger.error({ err, broadcastId: b.id }, 'could not publish the end of a broadcast');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    for (const channel of [...this.endedByChannel.keys()]) this.release(channel);
    await Promise.all(this.all().map((b) => this.end(b, 'ended', 'service stopping')));
  }
}
