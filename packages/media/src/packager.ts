import { parseFragment, parseInit, type TrackInfo } from './bmff.js';
import { MediaRequestError } from './errors.js';

/**
 * The CMAF packager of one rendition: takes ffmpeg's init section and
 * fragments, cuts parts (one fragment each) and segments (at keyframes,
 * about `segmentTargetMs`), keeps a sliding live window in memory and
 * answers blocking reloads. No I/O: the caller feeds bytes and persists
 * completed segments.
 */

export interface PackagerOptions {
  partTargetMs: number;
  segmentTargetMs: number;
  /** Complete segments listed in the live playlist. */
  windowSegments?: number;
  /** Complete segments (besides the open one) whose parts are still listed. */
  partSegments?: number;
  now?: () => number;
}

export interface Part {
  /** Global part number, the part's file name (`p<n>.m4s`): stable across segment boundaries. */
  seq: number;
  /** Index within its segment. */
  index: number;
  bytes: Buffer;
  duration: number;
  independent: boolean;
}

export interface Segment {
  msn: number;
  epoch: number;
  discontinuity: boolean;
  /** Decode time of the first sample in the track timescale. */
  startTime: number;
  /** Wall-clock time (ms) of the first sample. */
  programDateTime: number;
  /** Seconds; grows while the segment is open. */
  duration: number;
  /** In the track timescale. */
  durationTicks: number;
  parts: Part[];
  bytes: number;
  complete: boolean;
  /** Set once the segment is complete; dropped when it leaves the window. */
  data: Buffer | null;
}

interface Epoch {
  index: number;
  init: Buffer;
  track: TrackInfo;
  /** Wall-clock ms matching `mediaStart`, set on the first fragment. */
  wallStart: number | null;
  /** When the media `ms` into this timeline arrived at ingest, if the caller knows. */
  arrival: ((ms: number) => number) | null;
  mediaStart: number;
  /** Media time where the audio segment grid of this epoch starts. */
  gridStart: number;
}

interface Waiter {
  test: () => boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

export const initUri = (epoch: number): string => `init-${epoch}.mp4`;
export const segmentUri = (msn: number): string => `s${msn}.m4s`;
export const partUri = (seq: number): string => `p${seq}.m4s`;

export class RenditionPackager {
  readonly partTarget: number;
  readonly segmentTarget: number;
  private readonly windowSegments: number;
  private readonly partSegments: number;
  private readonly now: () => number;

  readonly epochs: Epoch[] = [];
  /** Every segment of the broadcast, oldest first (bytes only for the window). */
  readonly segments: Segment[] = [];
  private nextPartSeq = 0;
  private pendingDiscontinuity = false;
  private maxSegmentDuration = 0;
  private waiters = new Set<Waiter>();
  ended = false;
  /** Frames per second measured from the first video fragment. */
  frameRate: number | null = null;

  constructor(
    readonly name: string,
    opts: PackagerOptions,
  ) {
    this.partTarget = opts.partTargetMs / 1000;
    this.segmentTarget = opts.segmentTargetMs / 1000;
    this.windowSegments = opts.windowSegments ?? 6;
    this.partSegments = opts.partSegments ?? 2;
    this.now = opts.now ?? Date.now;
  }

  get track(): TrackInfo | null {
    return this.epochs.at(-1)?.track ?? null;
  }

  get hasInit(): boolean {
    return this.epochs.length > 0;
  }

  /** The media after this point starts a new timeline (restart or returning publisher). */
  markDiscontinuity(): void {
    if (this.segments.length > 0) this.pendingDiscontinuity = true;
  }

  /**
   * A new init section: a new ffmpeg, so a new timeline (EXT-X-DISCONTINUITY,
   * new map, new DASH period). `arrival`: when the media a given number of ms
   * into this timeline reached ingest, so program date-times say when the
   * media was received rather than when it came out of ffmpeg.
   */
  pushInit(bytes: Buffer, arrival?: (ms: number) => number): void {
    const track = parseInit(bytes);
    this.closeOpenSegment();
    if (this.epochs.length > 0) this.markDiscontinuity();
    this.epochs.push({
      index: this.epochs.length,
      init: bytes,
      track,
      wallStart: null,
      arrival: arrival ?? null,
      mediaStart: 0,
      gridStart: 0,
    });
    this.wake();
  }

  pushFragment(bytes: Buffer): { completed: Segment | null } {
    const epoch = this.epochs.at(-1);
    if (epoch === undefined)
      throw new MediaRequestError('SERVICE_UNAVAILABLE', 'fragment before init section');
    const info = parseFragment(bytes, epoch.track);
    const ts = epoch.track.timescale;
    if (epoch.wallStart === null) {
      epoch.wallStart = epoch.arrival?.(0) ?? this.now();
      epoch.mediaStart = info.baseDecodeTime;
      epoch.gridStart = info.baseDecodeTime;
    }
    const isAudio = epoch.track.handler === 'soun';
    const firstSample = info.samples[0];
    if (
      !isAudio &&
      this.frameRate === null &&
      firstSample &&
      firstSample.duration > 0 &&
      info.samples.length > 1
    ) {
      this.frameRate = Math.round((ts / firstSample.duration) * 1000) / 1000;
    }
    let open = this.openSegment();
    let completed: Segment | null = null;
    if (
      open &&
      (open.epoch !== epoch.index ||
        this.shouldCut(open, info.baseDecodeTime, info, epoch, isAudio))
    ) {
      completed = this.closeOpenSegment();
      open = undefined;
    }
    if (open === undefined) {
      // A video segment must start on a keyframe; drop leading non-sync media of a new timeline.
      if (!isAudio && !info.startsWithSync) return { completed };
      const last = this.segments.at(-1);
      open = {
        msn: last ? last.msn + 1 : 0,
        epoch: epoch.index,
        discontinuity: this.pendingDiscontinuity,
        startTime: info.baseDecodeTime,
        programDateTime: this.dateOf(epoch, ((info.baseDecodeTime - epoch.mediaStart) / ts) * 1000),
        duration: 0,
        durationTicks: 0,
        parts: [],
        bytes: 0,
        complete: false,
        data: null,
      };
      this.pendingDiscontinuity = false;
      this.segments.push(open);
    }
    open.parts.push({
      seq: this.nextPartSeq++,
      index: open.parts.length,
      bytes,
      duration: info.duration / ts,
      independent: isAudio || info.startsWithSync,
    });
    open.durationTicks = info.baseDecodeTime + info.duration - open.startTime;
    open.duration = open.durationTicks / ts;
    open.bytes += bytes.length;
    this.trim();
    this.wake();
    return { completed };
  }

  /** Wall-clock ms of the media `ms` into an epoch: its arrival at ingest when known. */
  private dateOf(epoch: Epoch, ms: number): number {
    return epoch.arrival?.(ms) ?? (epoch.wallStart ?? 0) + ms;
  }

  private shouldCut(
    open: Segment,
    start: number,
    info: { startsWithSync: boolean },
    epoch: Epoch,
    isAudio: boolean,
  ): boolean {
    const ts = epoch.track.timescale;
    const elapsed = (start - open.startTime) / ts;
    if (isAudio) {
      // Audio follows a fixed grid so its segments stay close to the video's.
      const boundary = epoch.gridStart + this.segmentTarget * ts;
      const half = ((open.parts.at(-1)?.duration ?? 0) * ts) / 2;
      if (start + half >= boundary) {
        while (epoch.gridStart + this.segmentTarget * ts <= start + half)
          epoch.gridStart += this.segmentTarget * ts;
        return true;
      }
      return false;
    }
    return info.startsWithSync && elapsed >= this.segmentTarget * 0.9;
  }

  private openSegment(): Segment | undefined {
    const last = this.segments.at(-1);
    return last && !last.complete ? last : undefined;
  }

  /** Completes the open segment (at a cut, a restart or the end). */
  closeOpenSegment(): Segment | null {
    const open = this.openSegment();
    if (open === undefined) return null;
    open.complete = true;
    open.data = Buffer.concat(open.parts.map((p) => p.bytes));
    this.maxSegmentDuration = Math.max(this.maxSegmentDuration, open.duration);
    this.trim();
    this.wake();
    return open;
  }

  end(): Segment | null {
    const last = this.closeOpenSegment();
    this.ended = true;
    this.wake();
    return last;
  }

  private trim(): void {
    // Older segments were trimmed when they left these ranges; only the tail can change.
    const tail = this.segments.slice(-(this.windowSegments + this.partSegments + 6));
    const complete = tail.filter((s) => s.complete);
    const keepData = new Set(complete.slice(-this.windowSegments - 2).map((s) => s.msn));
    const keepParts = new Set(complete.slice(-this.partSegments - 1).map((s) => s.msn));
    for (const s of complete) {
      if (!keepData.has(s.msn)) s.data = null;
      // Old parts are neither listed nor served; a long broadcast keeps only segment metadata.
      if (!keepParts.has(s.msn) && s.parts.length > 0) s.parts = [];
    }
  }

  get targetDuration(): number {
    return Math.max(Math.ceil(this.segmentTarget - 0.001), Math.round(this.maxSegmentDuration));
  }

  /** The live window: the last complete segments plus the open one. */
  windowed(): Segment[] {
    const tail = this.segments.slice(-(this.windowSegments + 1));
    const complete = tail.filter((s) => s.complete);
    const first = complete.at(-this.windowSegments)?.msn ?? complete[0]?.msn ?? 0;
    return tail.filter((s) => s.msn >= first);
  }

  lastPart(): { msn: number; index: number } | null {
    const last = this.segments.at(-1);
    if (last === undefined) return null;
    return { msn: last.msn, index: last.parts.length - 1 };
  }

  get nextPart(): number {
    return this.nextPartSeq;
  }

  // --- blocking reload (draft-pantos-hls-rfc8216bis §6.2.5.2) ---

  /** True once the playlist holds segment `msn` complete, or part `part` of it. */
  satisfies(msn: number, part: number | undefined): boolean {
    if (this.ended) return true;
    const last = this.segments.at(-1);
    const seg = last ? this.segments[msn - (this.segments[0]?.msn ?? 0)] : undefined;
    if (last === undefined) return false;
    if (msn < (this.segments[0]?.msn ?? 0)) return true;
    if (part === undefined) return (seg?.complete ?? false) || last.msn > msn;
    if (seg === undefined) return last.msn > msn;
    if (seg.parts.length > part) return true;
    // A part index past the end of a complete segment means part 0 of the next one.
    if (seg.complete) return last.msn > msn && (last.parts.length > 0 || !last.complete);
    return false;
  }

  /**
   * Validates a blocking request: 400 when malformed or too far ahead. The
   * Advance Part Limit is three seconds of parts (3 / PART-TARGET). Once the
   * rendition has ended nothing is ahead: any request gets the closed playlist.
   */
  checkRequest(msn: number | undefined, part: number | undefined): void {
    if (msn === undefined) {
      if (part !== undefined) {
        throw new MediaRequestError('LIVE_PLAYLIST_REQUEST_INVALID', '_HLS_part requires _HLS_msn');
      }
      return;
    }
    if (this.ended) return;
    const last = this.lastPart();
    const lastMsn = last?.msn ?? -1;
    if (msn > lastMsn + 2) {
      throw new MediaRequestError(
        'LIVE_PART_TOO_FAR',
        `_HLS_msn ${msn} is more than two segments ahead`,
      );
    }
    if (part !== undefined) {
      const limit = Math.ceil(3 / Math.min(this.partTarget, 1));
      const perSegment = Math.max(1, Math.ceil(this.segmentTarget / this.partTarget));
      const ahead = (msn - lastMsn) * perSegment + part - (last?.index ?? -1);
      if (ahead > limit + (msn > lastMsn ? perSegment : 0)) {
        throw new MediaRequestError(
          'LIVE_PART_TOO_FAR',
          `_HLS_part ${part} is beyond the advance part limit`,
        );
      }
    }
  }

  /** Resolves when `test` holds; rejects with 503 after `timeoutMs` or on abort. */
  waitFor(test: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.reject(
            new MediaRequestError(
              'SERVICE_UNAVAILABLE',
              'the requested media is not available yet',
            ),
          ),
        timeoutMs,
      );
      const onAbort = () =>
        waiter.reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Answers every waiting request now, whatever it waits for (the rendition is going away). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w.resolve();
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (this.ended || w.test()) w.resolve();
    }
  }

  /** Bytes of a file named by the playlists, or null when unknown or gone. */
  file(name: string): Buffer | null {
    let m = /^init-(\d+)\.mp4$/.exec(name);
    if (m) return this.epochs[Number(m[1])]?.init ?? null;
    if (name === 'init.mp4') return this.epochs.at(-1)?.init ?? null;
    m = /^s(\d+)\.m4s$/.exec(name);
    if (m) {
      const msn = Number(m[1]);
      return this.segments[msn - (this.segments[0]?.msn ?? 0)]?.data ?? null;
    }
    m = /^p(\d+)\.m4s$/.exec(name);
    if (m) {
      const seq = Number(m[1]);
      const oldest = Math.max(0, this.segments.length - this.partSegments - 3);
      for (let i = this.segments.length - 1; i >= oldest; i--) {
        const seg = this.segments[i];
        if (seg === undefined) continue;
        const first = seg.parts[0];
        if (first === undefined || first.seq > seq) continue;
        const p = seg.parts.find((x) => x.seq === seq);
        return p && p.bytes.length > 0 ? p.bytes : null;
      }
    }
    return null;
  }
}
