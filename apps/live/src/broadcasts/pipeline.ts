import type { Rendition } from '@neon/contracts';

/** What the ingest learnt about the source from `onMetaData` and the first tags. */
export interface SourceMeta {
  width: number | null;
  height: number | null;
  fps: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  videoBitrateKbps: number | null;
  audioBitrateKbps: number | null;
}

/** How the transcoder keeps up with a broadcast (see PipelineHealth in @neon/media). */
export interface TranscodeHealth {
  speed: number | null;
  backlogSeconds: number;
  activeRungs: string[];
  shedRungs: string[];
  costCores: number | null;
  saturated: boolean;
}

export interface PlaylistQuery {
  msn?: number;
  part?: number;
  skip?: string;
}

/**
 * The transcoding + packaging pipeline of one broadcast, as this service uses
 * it (implemented by @neon/media; see media-pipeline.ts).
 */
export interface LivePipeline {
  write(flv: Uint8Array): void;
  /** The publisher came back: the next bytes start a new FLV stream after a gap. */
  discontinuity(): void;
  /** Drains what was received; `ladderDrainMs` caps the wait for the transcode ladder. */
  end(options?: {
    ladderDrainMs?: number;
  }): Promise<{ durationSeconds: number; masterPath: string }>;
  renditions(): Rendition[];
  masterPlaylist(): string | null;
  mediaPlaylist(rendition: string, query: PlaylistQuery, signal?: AbortSignal): Promise<string>;
  dashManifest(): string | null;
  health(): TranscodeHealth;
  resource(
    rendition: string,
    file: string,
    signal?: AbortSignal,
  ): Promise<{ body: Uint8Array; contentType: string } | null>;
  /** A part, segment or init segment already in memory (what `resource` would answer at once), else null. */
  resourceNow(rendition: string, file: string): { body: Uint8Array; contentType: string } | null;
  onReady(fn: () => void): void;
  onError(fn: (err: Error) => void): void;
  onExit(fn: (unexpected: boolean) => void): void;
}

export interface PipelineOptions {
  outputDir: string;
  thumbnailPath: string;
  source: SourceMeta;
}

export type PipelineFactory = (options: PipelineOptions) => LivePipeline;
