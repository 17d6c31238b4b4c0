import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { BoxStreamSplitter } from './bmff.js';
import { renderMpd } from './dash.js';
import { MediaRequestError } from './errors.js';
import { buildFfmpegArgs } from './ffmpeg-args.js';
import { flvHeader, FlvReader, metadataNumber, type FlvHeader, type FlvTag } from './flv.js';
import {
  planLadder,
  SOURCE_RUNG,
  type PlannedRendition,
  type RungSpec,
  type SourceInfo,
} from './ladder.js';
import { RenditionPackager, segmentUri, initUri, type Segment } from './packager.js';
import {
  blockingPlaylist,
  mediaPlaylistUri,
  recordedRenditions,
  renderMasterPlaylist,
  renderMediaPlaylist,
  type MediaPlaylistQuery,
  type RenditionInfo,
} from './playlist.js';
import { runFfmpeg, type FfmpegExit, type FfmpegProcess, type MediaLogger } from './runner.js';
import {
  CpuMeter,
  DEFAULT_SHED_POLICY,
  HostIdleMeter,
  processCpuSeconds,
  shedDecision,
  SpeedMeter,
  type ShedPolicy,
} from './speed.js';

export interface PipelineOptions {
  ffmpegPath: string;
  /** Segments and, at the end, the VOD playlists are written here (one folder per rendition). */
  outputDir: string;
  source: SourceInfo;
  ladder?: RungSpec[];
  logger: MediaLogger;
  /** Part target, ms (default 250). */
  partTargetMs?: number;
  /** Segment target, ms (default 2000); segments still start on source keyframes. */
  segmentTargetMs?: number;
  /** A JPEG of the live picture, rewritten about every 10 s. */
  thumbnailPath?: string;
  now?: () => number;
  /** x264 preset (default `veryfast`). */
  preset?: string;
  /** Complete segments kept in the live playlists (default 6). */
  windowSegments?: number;
  /**
   * At the end, how long the transcode ladder may take to finish its backlog
   * before it is stopped (default 60000). The recording (source and audio)
   * runs in a process of its own and is always drained to the end.
   */
  ladderDrainMs?: number;
  /**
   * When the transcode ladder falls behind real time, restart it without its
   * most expensive rung (the source copy and the lowest rung always stay), and
   * take rungs back once it has room again. `false` turns shedding off.
   */
  shed?: Partial<ShedPolicy> | false;
  /** Idle seconds of the machine's CPUs so far (default: from os.cpus()); for restoring rungs. */
  hostIdleSeconds?: () => number;
}

/** How the transcoder keeps up, as the broadcast's owner and the metrics see it. */
export interface PipelineHealth {
  /** Media seconds the transcode ladder produces per wall second over ~10 s; null until measured. */
  speed: number | null;
  /** How far the ladder is behind its input, seconds. */
  backlogSeconds: number;
  /** Encoded rungs being produced. */
  activeRungs: string[];
  /** Encoded rungs turned off because the transcoder could not keep up, most expensive first. */
  shedRungs: string[];
  /** Cores the broadcast's ffmpeg processes keep busy; null until measured. */
  costCores: number | null;
  /** Behind even with every rung it may shed shed. */
  saturated: boolean;
}

export interface EndOptions {
  /** Overrides `ladderDrainMs` (a stopping service cannot wait a minute). */
  ladderDrainMs?: number;
}

export interface VodResult {
  durationSeconds: number;
  masterPath: string;
}

export interface SegmentEvent {
  rendition: string;
  msn: number;
  duration: number;
  discontinuity: boolean;
  path: string;
}

export interface PipelineErrorEvent {
  message: string;
  command: string;
  stderr: string;
}

export interface PipelineExitEvent {
  /** `ended`: end() was called; `failed`: ffmpeg kept crashing and the pipeline gave up. */
  reason: 'ended' | 'failed';
}

export interface PipelineEvents {
  ready: [];
  segment: [SegmentEvent];
  error: [PipelineErrorEvent];
  exit: [PipelineExitEvent];
}

export interface MediaResource {
  body: Buffer;
  contentType: string;
}

export interface Pipeline {
  write(flv: Buffer): void;
  discontinuity(): void;
  end(options?: EndOptions): Promise<VodResult>;
  readonly renditions: RenditionInfo[];
  masterPlaylist(): string | null;
  mediaPlaylist(rendition: string, q: MediaPlaylistQuery, signal?: AbortSignal): Promise<string>;
  dashManifest(): string | null;
  health(): PipelineHealth;
  resource(rendition: string, file: string, signal?: AbortSignal): Promise<MediaResource | null>;
  /** What `resource` answers at once from memory (a part, segment or init segment held), else null. */
  resourceNow(rendition: string, file: string): MediaResource | null;
  on<K extends keyof PipelineEvents>(
    event: K,
    listener: (...args: PipelineEvents[K]) => void,
  ): this;
  off<K extends keyof PipelineEvents>(
    event: K,
    listener: (...args: PipelineEvents[K]) => void,
  ): this;
}

/** Probing stops after this much media (ms of FLV timestamps) or this many tags. */
const PROBE_MS = 2500;
const PROBE_TAGS = 300;
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS = 5;
const DEFAULT_LADDER_DRAIN_MS = 60_000;

/**
 * One ffmpeg process and the renditions it writes. The recording (the source
 * copied, and the audio) and the transcode ladder (encoded rungs, thumbnail)
 * run apart, so a ladder that falls behind or dies cannot shorten the recording.
 */
interface ProcessGroup {
  role: 'recording' | 'ladder';
  plan: PlannedRendition[];
  thumbnail: boolean;
  proc: FfmpegProcess | null;
  retiring: Promise<unknown> | null;
  /** Tags waiting for the next ffmpeg (after a restart or a returning publisher). */
  queue: FlvTag[];
  queuedBytes: number;
  waitForKeyframe: boolean;
  restarts: number[];
  /** Gave up after repeated crashes. */
  failed: boolean;
  /** Media is being dropped because the process does not read it fast enough. */
  dropping: boolean;
  /** Arrival at ingest of media given to the current process: its first tag, then keyframes (or about every 500 ms). */
  arrivals: { ts: number; at: number }[];
  /** FLV timestamps (ms) of the first and last video tag given to the current process. */
  firstFedMs: number | null;
  lastFedMs: number;
  /** Media time the current process has written, ms. */
  outMs: number;
  cpu: CpuMeter;
}

const ARRIVALS_KEPT = 512;

/** When the media `ms` after a process's first tag reached ingest, from the nearest logged tag. */
function arrivalOf(log: { ts: number; at: number }[], ms: number): number {
  const first = log[0];
  if (first === undefined) return Date.now();
  const target = first.ts + ms;
  let best = first;
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i]!;
    if (Math.abs(e.ts - target) < Math.abs(best.ts - target)) best = e;
    if (e.ts < target - 5000) break;
  }
  return best.at + (target - best.ts);
}

export function startPipeline(options: PipelineOptions): Pipeline {
  return new LivePipeline(options);
}

class LivePipeline extends EventEmitter implements Pipeline {
  private readonly partTargetMs: number;
  private readonly segmentTargetMs: number;
  private readonly now: () => number;
  private readonly log: MediaLogger;
  private readonly reader = new FlvReader();

  private plan: PlannedRendition[] | null = null;
  private readonly packagers = new Map<string, RenditionPackager>();
  private source: SourceInfo;

  private header: FlvHeader | null = null;
  private probeTags: FlvTag[] = [];
  private metadata: FlvTag | null = null;
  private videoConfig: FlvTag | null = null;
  private audioConfig: FlvTag | null = null;

  private groups: ProcessGroup[] = [];
  /** Renditions of a ladder that kept crashing: no longer offered. */
  private readonly dropped = new Set<string>();
  /** Per rendition, the last segment whose on-disk playlist write is queued. */
  private readonly playlistQueued = new Map<string, number>();
  private ending = false;
  private inputClosed = false;
  private ended: Promise<VodResult> | null = null;
  private failed = false;
  private readyEmitted = false;
  private writes: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  /** When each tag reached ingest, for tags held before a process takes them. */
  private readonly arrivals = new WeakMap<FlvTag, number>();

  private readonly shedPolicy: ShedPolicy | null;
  /** Encoded rungs turned off to keep up, in the order they were shed. */
  private readonly shed: string[] = [];
  /** Rungs taken back but not offered again until their first new fragment. */
  private readonly restoring = new Set<string>();
  private readonly speed: SpeedMeter;
  private readonly hostIdle: HostIdleMeter;
  private ladderChangedAt = 0;
  private sheds = 0;
  private watch: NodeJS.Timeout | null = null;

  constructor(private readonly opts: PipelineOptions) {
    super();
    this.partTargetMs = opts.partTargetMs ?? 250;
    this.segmentTargetMs = opts.segmentTargetMs ?? 2000;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
    this.source = { ...opts.source };
    this.shedPolicy = opts.shed === false ? null : { ...DEFAULT_SHED_POLICY, ...opts.shed };
    const windowMs = this.shedPolicy?.windowMs ?? DEFAULT_SHED_POLICY.windowMs;
    this.speed = new SpeedMeter(windowMs);
    this.hostIdle = new HostIdleMeter(windowMs);
    // Errors are reported through events; an 'error' without a listener must not throw.
    this.on('error', () => undefined);
  }

  override on<K extends keyof PipelineEvents>(
    event: K,
    listener: (...args: PipelineEvents[K]) => void,
  ): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof PipelineEvents>(
    event: K,
    listener: (...args: PipelineEvents[K]) => void,
  ): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  private emitEvent<K extends keyof PipelineEvents>(event: K, ...args: PipelineEvents[K]): void {
    this.emit(event, ...args);
  }

  // --- input ---

  write(flv: Buffer): void {
    if (this.inputClosed || this.failed) return;
    let parsed: ReturnType<FlvReader['push']>;
    try {
      parsed = this.reader.push(flv);
    } catch (err) {
      this.log.warn({ err }, 'unreadable FLV input dropped');
      this.reader.reset();
      return;
    }
    if (parsed.header) this.header = parsed.header;
    const arrivedAt = this.now();
    for (const tag of parsed.tags) {
      this.arrivals.set(tag, arrivedAt);
      if (tag.type === 'script') this.metadata = tag;
      if (tag.sequenceHeader && tag.type === 'video') this.videoConfig = tag;
      if (tag.sequenceHeader && tag.type === 'audio') this.audioConfig = tag;
      if (this.plan === null) {
        this.probeTags.push(tag);
        if (this.probeComplete()) this.startFromProbe();
      } else {
        this.feed(tag);
      }
    }
  }

  private probeComplete(): boolean {
    const tags = this.probeTags;
    const media = tags.filter((t) => t.type === 'audio' || t.type === 'video');
    const seenVideo = media.some((t) => t.type === 'video');
    const seenAudio = media.some((t) => t.type === 'audio');
    const wantVideo = this.header?.hasVideo ?? true;
    const wantAudio = this.header?.hasAudio ?? true;
    if ((seenVideo || !wantVideo) && (seenAudio || !wantAudio)) return true;
    const span = media.length > 0 ? (media.at(-1)?.timestamp ?? 0) - (media[0]?.timestamp ?? 0) : 0;
    return span >= PROBE_MS || tags.length >= PROBE_TAGS;
  }

  /** Fills what onMetaData did not say from the stream itself, then plans and starts ffmpeg. */
  private startFromProbe(): void {
    const media = this.probeTags.filter((t) => t.type === 'audio' || t.type === 'video');
    const video = media.find((t) => t.type === 'video');
    const audio = media.find((t) => t.type === 'audio');
    const s = this.source;
    s.videoCodec = video ? (video.codecId === 7 ? 'h264' : `flv-${video.codecId}`) : null;
    s.audioCodec = audio ? (audio.codecId === 10 ? 'aac' : `flv-${audio.codecId}`) : null;
    if (this.metadata) {
      s.width ??= metadataNumber(this.metadata, 'width');
      s.height ??= metadataNumber(this.metadata, 'height');
      s.fps ??= metadataNumber(this.metadata, 'framerate');
    }
    this.plan = planLadder(s, this.opts.ladder);
    for (const r of this.plan) {
      this.packagers.set(
        r.name,
        new RenditionPackager(r.name, {
          partTargetMs: this.partTargetMs,
          segmentTargetMs: this.segmentTargetMs,
          windowSegments: this.opts.windowSegments,
          now: this.now,
        }),
      );
    }
    const recording = this.plan.filter((r) => r.kind === 'audio' || r.name === SOURCE_RUNG);
    const ladder = this.plan.filter((r) => !recording.includes(r));
    const thumbnail = this.opts.thumbnailPath !== undefined && this.hasVideo;
    this.groups = [];
    if (recording.length > 0) this.groups.push(newGroup('recording', recording, false));
    if (ladder.length > 0 || thumbnail) this.groups.push(newGroup('ladder', ladder, thumbnail));
    this.ladderChangedAt = this.now();
    this.watch = setInterval(() => this.watchLadder(), 1000);
    this.watch.unref();
    this.log.info({ source: s, renditions: this.plan.map((r) => r.name) }, 'ladder planned');
    const tags = this.probeTags;
    this.probeTags = [];
    for (const tag of tags) this.feed(tag);
  }

  private feed(tag: FlvTag): void {
    for (const g of this.groups) this.feedGroup(g, tag);
  }

  private feedGroup(g: ProcessGroup, tag: FlvTag): void {
    if (g.failed) return;
    if (g.proc === null && g.retiring === null) {
      if (g.waitForKeyframe) {
        // Configuration records go into the new process's prefix; media waits for a keyframe.
        if (tag.type === 'script' || tag.sequenceHeader) return;
        if (this.hasVideo && !(tag.type === 'video' && tag.keyframe)) return;
      }
      const resume = g.waitForKeyframe;
      g.waitForKeyframe = false;
      this.spawn(g, resume);
    }
    if (g.proc === null) {
      if (g.queuedBytes + tag.bytes.length > MAX_QUEUED_BYTES) return;
      g.queue.push(tag);
      g.queuedBytes += tag.bytes.length;
      return;
    }
    if (g.proc.stdin.writableLength > MAX_QUEUED_BYTES) {
      if (!g.dropping)
        this.log.warn(
          { process: g.role, queued: g.proc.stdin.writableLength },
          'ffmpeg is not keeping up; media dropped',
        );
      g.dropping = true;
      return;
    }
    g.dropping = false;
    if ((tag.type === 'video' || tag.type === 'audio') && !tag.sequenceHeader)
      this.logArrival(g, tag);
    if (tag.type === 'video' && !tag.sequenceHeader) {
      g.firstFedMs ??= tag.timestamp;
      g.lastFedMs = tag.timestamp;
    }
    g.proc.stdin.write(tag.bytes);
  }

  private logArrival(g: ProcessGroup, tag: FlvTag): void {
    const last = g.arrivals.at(-1);
    const due =
      last === undefined ||
      (tag.type === 'video' ? tag.keyframe : !this.hasVideo && tag.timestamp - last.ts >= 500);
    if (!due) return;
    g.arrivals.push({ ts: tag.timestamp, at: this.arrivals.get(tag) ?? this.now() });
    // The first entry anchors the timeline; old ones past it are no longer asked for.
    if (g.arrivals.length > ARRIVALS_KEPT) g.arrivals.splice(1, g.arrivals.length - ARRIVALS_KEPT);
  }

  private get hasVideo(): boolean {
    return this.plan?.some((r) => r.kind === 'video') ?? false;
  }

  /** Starts ffmpeg; `resume`: mid-stream, so the FLV header and configuration records go first. */
  private spawn(g: ProcessGroup, resume: boolean): void {
    const plan = g.plan.filter((r) => !this.shed.includes(r.name));
    if (this.plan === null || this.ending) return;
    const thumbnailPath = g.thumbnail ? this.opts.thumbnailPath : undefined;
    if (thumbnailPath)
      void mkdir(dirname(thumbnailPath), { recursive: true }).catch(() => undefined);
    const args = buildFfmpegArgs(plan, {
      partTargetMs: this.partTargetMs,
      preset: this.opts.preset,
      thumbnailPath,
      inputHasVideo: this.hasVideo,
    });
    const splitters = plan.map(() => new BoxStreamSplitter());
    const proc = runFfmpeg({
      ffmpegPath: this.opts.ffmpegPath,
      args,
      outputs: plan.length,
      logger: this.log,
      signal: this.abort.signal,
      onOutput: (i, chunk) => {
        const r = plan[i];
        const splitter = splitters[i];
        if (r === undefined || splitter === undefined) return;
        this.onOutput(g, r, splitter, chunk);
      },
      onExit: (exit) => this.onExit(g, proc, exit),
      onProgress:
        g.role === 'ladder'
          ? (outTimeUs) => {
              if (g.proc !== proc) return;
              g.outMs = outTimeUs / 1000;
              this.speed.push(this.now(), g.outMs);
            }
          : undefined,
    });
    g.proc = proc;
    g.arrivals = [];
    g.firstFedMs = null;
    g.lastFedMs = 0;
    g.outMs = 0;
    g.cpu.reset();
    if (g.role === 'ladder') this.speed.reset();
    const header =
      this.header?.bytes ??
      flvHeader(this.source.audioCodec !== null, this.source.videoCodec !== null);
    const configs = [this.metadata, this.videoConfig, this.audioConfig].filter(
      (t): t is FlvTag => t !== null,
    );
    const prefix = resume ? [header, ...configs.map((t) => t.bytes)] : [header];
    for (const b of prefix) proc.stdin.write(b);
  }

  private onOutput(
    g: ProcessGroup,
    r: PlannedRendition,
    splitter: BoxStreamSplitter,
    chunk: Buffer,
  ): void {
    const packager = this.packagers.get(r.name);
    if (packager === undefined) return;
    try {
      for (const unit of splitter.push(chunk)) {
        if (unit.kind === 'init') {
          // ffmpeg's output starts at the first media it was given: date the timeline by arrivals.
          const log = g.arrivals;
          packager.pushInit(unit.bytes, (ms) => arrivalOf(log, ms));
          const epoch = packager.epochs.length - 1;
          this.persist(join(r.name, initUri(epoch)), unit.bytes);
        } else if (unit.kind === 'fragment') {
          this.restoring.delete(r.name);
          const { completed } = packager.pushFragment(unit.bytes);
          if (completed) this.onSegment(r.name, completed);
        }
      }
    } catch (err) {
      this.log.error({ err, rendition: r.name }, 'unreadable ffmpeg output');
      this.emitEvent('error', {
        message: `unreadable output for ${r.name}: ${String(err)}`,
        command: g.proc?.command ?? '',
        stderr: '',
      });
      g.proc?.kill();
      return;
    }
    if (
      !this.readyEmitted &&
      this.masterPlaylist() !== null &&
      this.offered().every((p) => p.segments.length > 0)
    ) {
      this.readyEmitted = true;
      // The recording's folder is a playable (growing) video from its first segments on.
      this.persist(
        'master.m3u8',
        Buffer.from(renderMasterPlaylist(this.renditions, { vod: true })),
        true,
      );
      this.emitEvent('ready');
    }
  }

  /** Packagers of the renditions still offered (not those of a ladder that gave up, nor shed). */
  private offered(): RenditionPackager[] {
    return [...this.packagers.values()].filter((p) => this.isOffered(p.name));
  }

  private isOffered(rendition: string): boolean {
    return (
      !this.dropped.has(rendition) &&
      !this.shed.includes(rendition) &&
      !this.restoring.has(rendition)
    );
  }

  // --- keeping up ---

  private get ladder(): ProcessGroup | undefined {
    return this.groups.find((g) => g.role === 'ladder');
  }

  /** Encoded rungs of the ladder in plan order (highest first). */
  private encodedRungs(): PlannedRendition[] {
    return this.ladder?.plan.filter((r) => r.kind === 'video' && !r.copy) ?? [];
  }

  private backlogSeconds(g: ProcessGroup | undefined): number {
    if (g?.proc == null || g.firstFedMs === null) return 0;
    return Math.max(0, (g.lastFedMs - g.firstFedMs - g.outMs) / 1000);
  }

  health(): PipelineHealth {
    const g = this.ladder;
    const encoded = this.encodedRungs();
    const active = encoded.filter((r) => !this.shed.includes(r.name)).map((r) => r.name);
    const costs = this.groups.map((x) => x.cpu.cores());
    const costCores = costs.some((c) => c !== null)
      ? costs.reduce<number>((a, c) => a + (c ?? 0), 0)
      : null;
    const speed = g?.proc ? this.speed.speed() : null;
    const backlogSeconds = this.backlogSeconds(g);
    const p = this.shedPolicy ?? DEFAULT_SHED_POLICY;
    const behind = backlogSeconds > p.maxBacklogSeconds || (speed !== null && speed < p.minSpeed);
    return {
      speed: speed === null ? null : Math.round(speed * 100) / 100,
      backlogSeconds: Math.round(backlogSeconds * 10) / 10,
      activeRungs: active,
      shedRungs: [...this.shed],
      costCores: costCores === null ? null : Math.round(costCores * 100) / 100,
      saturated: behind && active.length <= 1,
    };
  }

  /** Once a second: measures the processes and sheds or restores a rung when the figures say so. */
  private watchLadder(): void {
    const now = this.now();
    for (const g of this.groups) g.cpu.push(now, processCpuSeconds(g.proc?.child.pid));
    this.hostIdle.push(now, (this.opts.hostIdleSeconds ?? hostIdleSeconds)());
    const g = this.ladder;
    const policy = this.shedPolicy;
    if (policy === null || g === undefined || g.proc === null || this.ending || g.failed) return;
    const encoded = this.encodedRungs();
    const active = encoded.filter((r) => !this.shed.includes(r.name));
    const next = this.shed.at(-1);
    const nextRung = encoded.find((r) => r.name === next);
    const pixels = (rs: PlannedRendition[]) =>
      rs.reduce((a, r) => a + (r.kind === 'video' ? r.width * r.height : 0), 0);
    const decision = shedDecision(
      {
        speed: this.speed.speed(),
        backlogSeconds: this.backlogSeconds(g),
        sinceChangeMs: now - this.ladderChangedAt,
        sheds: this.sheds,
        ladderCores: g.cpu.cores(),
        idleCores: this.hostIdle.idleCores(),
        restoreShare:
          nextRung === undefined ? null : pixels([nextRung]) / Math.max(1, pixels(active)),
      },
      policy,
    );
    if (decision === 'shed' && active.length > 1) {
      // The most expensive rung is the first (highest) one; the lowest always stays.
      const victim = active[0]!;
      this.shed.push(victim.name);
      this.sheds++;
      this.log.warn(
        {
          rendition: victim.name,
          speed: this.speed.speed(),
          backlogSeconds: this.backlogSeconds(g),
          active: active.slice(1).map((r) => r.name),
        },
        'the transcoder is falling behind real time; a rung is turned off',
      );
      const p = this.packagers.get(victim.name);
      if (p) {
        const closed = p.closeOpenSegment();
        if (closed) this.onSegment(p.name, closed);
        // Players blocked on its playlist hear at once that it is gone.
        p.wakeAll();
      }
      this.restartLadder(g);
    } else if (decision === 'restore' && nextRung !== undefined) {
      this.shed.pop();
      this.restoring.add(nextRung.name);
      this.log.info(
        {
          rendition: nextRung.name,
          speed: this.speed.speed(),
          idleCores: this.hostIdle.idleCores(),
        },
        'the transcoder has room again; a rung is turned back on',
      );
      this.restartLadder(g);
    }
  }

  /**
   * Replaces the ladder's ffmpeg with one for the rungs now active. The old one
   * is stopped at once: its backlog is exactly the lateness being shed. The
   * next one starts at a keyframe, so every rendition it writes continues
   * after a discontinuity.
   */
  private restartLadder(g: ProcessGroup): void {
    this.ladderChangedAt = this.now();
    this.speed.reset();
    const old = g.proc;
    if (old === null || g.retiring !== null) return;
    g.proc = null;
    g.waitForKeyframe = true;
    const retiring = old.exited.then(() => {
      this.closeSegments(g);
      if (g.retiring === retiring) g.retiring = null;
      this.drainQueue(g);
    });
    g.retiring = retiring;
    old.kill();
  }

  private onSegment(rendition: string, s: Segment): void {
    const path = join(rendition, segmentUri(s.msn));
    if (s.data) this.persist(path, s.data);
    this.persistPlaylist(rendition, s.msn);
    this.emitEvent('segment', {
      rendition,
      msn: s.msn,
      duration: s.duration,
      discontinuity: s.discontinuity,
      path,
    });
  }

  /** Queues a write; `atomic` (playlists): a crash leaves the old file or the new one, never half. */
  private persist(relative: string, data: Buffer | (() => Buffer | null), atomic = false): void {
    const path = join(this.opts.outputDir, relative);
    this.writes = this.writes.then(async () => {
      try {
        const bytes = typeof data === 'function' ? data() : data;
        if (bytes === null) return;
        await mkdir(dirname(path), { recursive: true });
        if (atomic) {
          await writeFile(`${path}.tmp`, bytes);
          await rename(`${path}.tmp`, path);
        } else {
          await writeFile(path, bytes);
        }
      } catch (err) {
        this.log.error({ err, path }, 'segment not persisted');
      }
    });
  }

  /**
   * Rewrites a rendition's on-disk playlist once segment `msn` is written, so
   * that what a crash leaves is a valid recording up to there. Under load the
   * writes queue up; only the latest of a rendition's queued rewrites runs.
   */
  private persistPlaylist(rendition: string, msn: number): void {
    this.playlistQueued.set(rendition, msn);
    this.persist(
      join(rendition, 'index.m3u8'),
      () => {
        const p = this.packagers.get(rendition);
        if (p === undefined || this.playlistQueued.get(rendition) !== msn) return null;
        return Buffer.from(renderMediaPlaylist(p, { vod: true, open: true, throughMsn: msn }));
      },
      true,
    );
  }

  private closeSegments(g: ProcessGroup): void {
    for (const r of g.plan) {
      const p = this.packagers.get(r.name);
      const closed = p?.closeOpenSegment();
      if (p && closed) this.onSegment(p.name, closed);
    }
  }

  private onExit(g: ProcessGroup, proc: FfmpegProcess, exit: FfmpegExit): void {
    if (g.proc !== proc) return;
    g.proc = null;
    // Segments in flight end here; the next ffmpeg opens a new timeline.
    this.closeSegments(g);
    if (this.ending || this.failed) return;
    this.emitEvent('error', {
      message:
        g.role === 'ladder'
          ? 'the transcoder exited during a live broadcast'
          : 'ffmpeg exited during a live broadcast',
      command: exit.command,
      stderr: exit.stderr,
    });
    const now = this.now();
    g.restarts = g.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (g.restarts.length >= MAX_RESTARTS) {
      g.failed = true;
      g.queue = [];
      g.queuedBytes = 0;
      if (g.role === 'ladder') {
        // The recording goes on; the encoded rungs are no longer offered.
        this.log.error(
          { restarts: g.restarts.length, renditions: g.plan.map((r) => r.name) },
          'the transcoder keeps failing; the broadcast continues with the source only',
        );
        for (const r of g.plan) {
          this.dropped.add(r.name);
          this.packagers.get(r.name)?.end();
        }
        return;
      }
      this.failed = true;
      this.log.error(
        { restarts: g.restarts.length },
        'ffmpeg keeps failing; broadcast pipeline stopped',
      );
      if (this.watch) clearInterval(this.watch);
      for (const other of this.groups) other.proc?.kill();
      for (const p of this.packagers.values()) p.end();
      this.emitEvent('exit', { reason: 'failed' });
      return;
    }
    g.restarts.push(now);
    this.log.warn({ process: g.role, restarts: g.restarts.length }, 'restarting ffmpeg');
    // Resume at the next keyframe with the configuration records the decoder needs.
    g.waitForKeyframe = true;
  }

  discontinuity(): void {
    this.reader.reset();
    if (this.ending || this.plan === null) return;
    for (const g of this.groups) {
      if (g.failed) continue;
      const old = g.proc;
      g.proc = null;
      g.waitForKeyframe = true;
      if (old) {
        // The recording keeps every byte it was given; the ladder gets some seconds (only its
        // own rungs wait meanwhile: the recording's new process starts as soon as the old one ends).
        const grace =
          g.role === 'recording'
            ? Infinity
            : Math.min(this.opts.ladderDrainMs ?? DEFAULT_LADDER_DRAIN_MS, 10_000);
        const retiring = old.finish(grace).then(() => {
          this.closeSegments(g);
          if (g.retiring === retiring) g.retiring = null;
          this.drainQueue(g);
        });
        g.retiring = retiring;
      }
    }
  }

  private drainQueue(g: ProcessGroup): void {
    const queued = g.queue;
    g.queue = [];
    g.queuedBytes = 0;
    for (const tag of queued) this.feedGroup(g, tag);
  }

  end(options: EndOptions = {}): Promise<VodResult> {
    this.ended ??= this.finishBroadcast(options);
    return this.ended;
  }

  private async finishBroadcast(options: EndOptions): Promise<VodResult> {
    this.inputClosed = true;
    if (this.watch) clearInterval(this.watch);
    // A returning publisher's queued media still goes through (the retiring ffmpeg hands over first).
    for (;;) {
      const retiring = this.groups.flatMap((g) => (g.retiring ? [g.retiring] : []));
      if (retiring.length === 0) break;
      await Promise.all(retiring);
    }
    this.ending = true;
    const ladderDrainMs =
      options.ladderDrainMs ?? this.opts.ladderDrainMs ?? DEFAULT_LADDER_DRAIN_MS;
    await Promise.all(
      this.groups.map(async (g) => {
        const proc = g.proc;
        if (proc === null) return;
        // Drained, not killed: the recording to its last byte, the ladder as long as allowed.
        const exit = await proc.finish(g.role === 'recording' ? Infinity : ladderDrainMs);
        g.proc = null;
        if (g.role === 'ladder' && exit.signal === 'SIGKILL')
          this.log.warn(
            { ladderDrainMs },
            'the transcoder had not caught up when the broadcast ended; its renditions end early, the recording is complete',
          );
      }),
    );
    for (const p of this.packagers.values()) {
      const closed = p.end();
      if (closed) this.onSegment(p.name, closed);
    }
    await this.writeVod();
    this.abort.abort();
    if (!this.failed) this.emitEvent('exit', { reason: 'ended' });
    await this.writes;
    const durationSeconds = Math.max(
      0,
      ...[...this.packagers.values()].map((p) => recordedSeconds(p)),
    );
    return { durationSeconds, masterPath: join(this.opts.outputDir, 'master.m3u8') };
  }

  private async writeVod(): Promise<void> {
    for (const p of this.packagers.values()) {
      this.playlistQueued.delete(p.name);
      this.persist(
        join(p.name, 'index.m3u8'),
        Buffer.from(renderMediaPlaylist(p, { vod: true })),
        true,
      );
    }
    const infos = recordedRenditions(
      (this.plan ?? []).map((r) => ({
        info: this.info(r),
        durationSeconds: recordedSeconds(this.packagers.get(r.name)),
      })),
    );
    this.persist('master.m3u8', Buffer.from(renderMasterPlaylist(infos, { vod: true })), true);
    await this.writes;
  }

  // --- output ---

  get renditions(): RenditionInfo[] {
    if (this.plan === null) return [];
    return this.plan.filter((r) => this.isOffered(r.name)).map((r) => this.info(r));
  }

  private info(r: PlannedRendition): RenditionInfo {
    const p = this.packagers.get(r.name);
    const track = p?.track ?? null;
    const complete = p?.segments.filter((s) => s.complete && s.duration > 0) ?? [];
    const nominal = r.kind === 'video' ? r.videoBitrateKbps * 1000 : r.audioBitrateKbps * 1000;
    const recent = complete.slice(-10);
    const peak =
      recent.length > 0 ? Math.max(...recent.map((s) => (s.bytes * 8) / s.duration)) : nominal;
    const totalSeconds = recent.reduce((a, s) => a + s.duration, 0);
    const average =
      totalSeconds > 0 ? recent.reduce((a, s) => a + s.bytes * 8, 0) / totalSeconds : nominal;
    const base = {
      name: r.name,
      uri: mediaPlaylistUri(r.name),
      bandwidth: Math.round(peak),
      averageBandwidth: Math.round(average),
    };
    if (r.kind === 'audio') {
      return {
        ...base,
        kind: 'audio',
        width: 0,
        height: 0,
        codecs: track?.codec ?? 'mp4a.40.2',
        frameRate: null,
        sampleRate: track?.sampleRate || 48000,
        channels: track?.channels || 2,
      };
    }
    return {
      ...base,
      kind: 'video',
      width: track?.width || r.width,
      height: track?.height || r.height,
      codecs: track?.codec ?? 'avc1.64001f',
      frameRate: this.source.fps ?? p?.frameRate ?? null,
    };
  }

  masterPlaylist(): string | null {
    if (this.plan === null || this.packagers.size === 0) return null;
    if (!this.offered().every((p) => p.hasInit)) return null;
    return renderMasterPlaylist(this.renditions);
  }

  private packager(rendition: string): RenditionPackager {
    const p = this.packagers.get(rendition);
    if (p === undefined) throw new MediaRequestError('NOT_FOUND', `no rendition ${rendition}`);
    return p;
  }

  async mediaPlaylist(
    rendition: string,
    q: MediaPlaylistQuery,
    signal?: AbortSignal,
  ): Promise<string> {
    const p = this.packager(rendition);
    const kind = p.track?.handler;
    if (this.shed.includes(rendition)) throw shedError(rendition);
    const reports = [...this.packagers.values()]
      .filter((other) => other !== p && other.track?.handler === kind)
      .map((other) => ({ uri: `../${mediaPlaylistUri(other.name)}`, packager: other }));
    const playlist = await blockingPlaylist(p, q, signal, undefined, reports);
    // A player waiting on a rung that was just turned off moves to another one.
    if (this.shed.includes(rendition)) throw shedError(rendition);
    return playlist;
  }

  dashManifest(): string | null {
    if (this.plan === null) return null;
    const inputs = this.plan.flatMap((r) => {
      const packager = this.isOffered(r.name) ? this.packagers.get(r.name) : undefined;
      return packager ? [{ info: this.info(r), packager }] : [];
    });
    return renderMpd(inputs, {
      now: this.now(),
      ended: this.ending,
      partTargetMs: this.partTargetMs,
      segmentTargetMs: this.segmentTargetMs,
    });
  }

  resourceNow(rendition: string, file: string): MediaResource | null {
    const p = this.packagers.get(rendition);
    const body = p?.file(file);
    if (!body) return null;
    return { body, contentType: p!.track?.handler === 'soun' ? 'audio/mp4' : 'video/mp4' };
  }

  async resource(
    rendition: string,
    file: string,
    signal?: AbortSignal,
  ): Promise<MediaResource | null> {
    const p = this.packagers.get(rendition);
    if (p === undefined) return null;
    const contentType = p.track?.handler === 'soun' ? 'audio/mp4' : 'video/mp4';
    const found = p.file(file);
    if (found) return { body: found, contentType };
    const part = /^p(\d+)\.m4s$/.exec(file);
    if (part && !p.ended) {
      const seq = Number(part[1]);
      // The preload hint names the next part; answer it the moment it is produced.
      if (seq >= p.nextPart && seq <= p.nextPart + 1) {
        await p.waitFor(
          () => p.file(file) !== null || p.nextPart > seq,
          p.targetDuration * 3000,
          signal,
        );
        const body = p.file(file);
        return body ? { body, contentType } : null;
      }
    }
    if (/^(s\d+\.m4s|init-\d+\.mp4)$/.test(file)) {
      try {
        return { body: await readFile(join(this.opts.outputDir, rendition, file)), contentType };
      } catch {
        return null;
      }
    }
    return null;
  }
}

function newGroup(
  role: ProcessGroup['role'],
  plan: PlannedRendition[],
  thumbnail: boolean,
): ProcessGroup {
  return {
    role,
    plan,
    thumbnail,
    proc: null,
    retiring: null,
    queue: [],
    queuedBytes: 0,
    waitForKeyframe: false,
    restarts: [],
    failed: false,
    dropping: false,
    arrivals: [],
    firstFedMs: null,
    lastFedMs: 0,
    outMs: 0,
    cpu: new CpuMeter(),
  };
}

function shedError(rendition: string): MediaRequestError {
  return new MediaRequestError(
    'NOT_FOUND',
    `${rendition} is turned off while the transcoder catches up; the multivariant playlist lists what is offered`,
  );
}

/** Idle CPU seconds of the whole machine so far. */
function hostIdleSeconds(): number {
  return cpus().reduce((a, c) => a + c.times.idle, 0) / 1000;
}

/** Seconds of complete segments a rendition recorded. */
function recordedSeconds(p: RenditionPackager | undefined): number {
  return p?.segments.filter((s) => s.complete).reduce((a, s) => a + s.duration, 0) ?? 0;
}
