import { join } from 'node:path';
import type { IngestHealth, Rendition } from '@neon/contracts';
import type { VideoState } from '../vod/video.repository.js';
import type { LivePipeline, SourceMeta } from './pipeline.js';

/** The encoder connection behind a broadcast, as far as the manager needs it. */
export interface Publisher {
  /** Closes the RTMP connection (key regenerated, limits exceeded, shutdown). */
  kick(reason: string): void;
}

export interface IngestStats {
  width: number;
  height: number;
  fps: number;
  videoCodec: string;
  audioCodec: string | null;
  bitrateKbps: number;
  startedAt: string;
}

/** Standard picture heights, for advice to the streamer. */
const ADVICE_HEIGHTS = [1080, 720, 480, 360];

const FINAL: readonly VideoState[] = ['ended', 'failed'];
const BITRATE_WINDOW_MS = 5000;

/**
 * One broadcast on this replica: its state, its pipeline and publisher, and
 * what the ingest measures of it (bitrate, frame rate, the transcoder's
 * health). BroadcastManager owns its lifecycle.
 */
export class Broadcast {
  state: VideoState = 'publishing';
  pipeline: LivePipeline | null = null;
  publisher: Publisher | null = null;
  graceTimer: NodeJS.Timeout | null = null;
  source: SourceMeta | null = null;
  /** Set when a returning publisher's first bytes must follow a discontinuity. */
  pendingDiscontinuity = false;
  announced = false;
  ending: Promise<void> | null = null;
  /** While an ended broadcast's playlists are still answered (with ENDLIST): when that stops. */
  endedTimer: NodeJS.Timeout | null = null;
  /** When the current publisher last sent a tag (or attached): its silence decides takeover and stall. */
  lastMediaAt = Date.now();
  private readonly samples: { at: number; bytes: number }[] = [];
  private frames: number[] = [];

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly channel: string,
    public title: string,
    readonly startedAt: Date,
    readonly outputDir: string,
  ) {}

  get thumbnailPath(): string {
    return join(this.outputDir, 'thumbnail.jpg');
  }

  get live(): boolean {
    return !FINAL.includes(this.state);
  }

  countBytes(bytes: number, isVideoFrame: boolean, now = Date.now()): void {
    this.lastMediaAt = now;
    this.samples.push({ at: now, bytes });
    if (isVideoFrame) this.frames.push(now);
    while (this.samples.length > 0 && this.samples[0]!.at < now - BITRATE_WINDOW_MS)
      this.samples.shift();
    if (this.frames.length > 0 && this.frames[0]! < now - BITRATE_WINDOW_MS)
      this.frames = this.frames.filter((t) => t >= now - BITRATE_WINDOW_MS);
  }

  /** What the server sees: measured bitrate and frame rate over the last few seconds. */
  stats(now = Date.now()): IngestStats | null {
    if (!this.source || !this.publisher) return null;
    const recent = this.samples.filter((s) => s.at >= now - BITRATE_WINDOW_MS);
    const span = recent.length > 1 ? Math.max(1, now - recent[0]!.at) : BITRATE_WINDOW_MS;
    const bytes = recent.reduce((n, s) => n + s.bytes, 0);
    const frames = this.frames.filter((t) => t >= now - BITRATE_WINDOW_MS);
    const fpsMeasured =
      frames.length > 1 ? ((frames.length - 1) * 1000) / Math.max(1, now - frames[0]!) : 0;
    return {
      width: this.source.width ?? 0,
      height: this.source.height ?? 0,
      fps: Math.round((fpsMeasured || this.source.fps || 0) * 100) / 100,
      videoCodec: this.source.videoCodec ?? 'none',
      audioCodec: this.source.audioCodec,
      bitrateKbps: Math.round((bytes * 8) / span),
      startedAt: this.startedAt.toISOString(),
    };
  }

  /** How long the current publisher has sent nothing. */
  silentMs(now = Date.now()): number {
    return now - this.lastMediaAt;
  }

  renditions(): Rendition[] {
    return this.pipeline?.renditions() ?? [];
  }

  /** The transcoder's side of the ingest health, for the owner. */
  health(replicaFull: boolean): IngestHealth {
    const h = this.pipeline?.health();
    const dropped = h?.shedRungs ?? [];
    const state = h?.saturated ? 'failing' : dropped.length > 0 ? 'degraded' : 'good';
    const sourceHeight = this.source?.height ?? 0;
    // The ladder keeps up at what it still produces: a source no taller than that costs less.
    const height = ADVICE_HEIGHTS.find((x) => x < sourceHeight);
    return {
      state,
      speed: h?.speed ?? null,
      droppedRungs: dropped,
      advice:
        state !== 'good' && height !== undefined ? { action: 'lower_resolution', height } : null,
      replicaFull,
    };
  }
}
