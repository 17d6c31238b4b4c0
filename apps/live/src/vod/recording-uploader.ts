import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DrainLoop, type Logger } from '@neon/kit';
import { contentTypeOf, isSafeName } from '../origin/media-types.js';
import type { ObjectStore } from './object-store.js';
import type { VideoRepository, VideoRow } from './video.repository.js';

const VIDEO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OPEN_STATES = new Set(['publishing', 'ready', 'unhealthy']);
/** Uploads at once: enough to keep up with a broadcast's end, few enough not to crowd the origin. */
const CONCURRENCY = 4;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 300_000;
/** A folder without a row is removed once it has not changed for this long. */
const ORPHAN_AGE_MS = 60_000;

/**
 * Moves recordings from this replica's disk to the bucket. While a broadcast
 * is live, each segment (and its init section) goes up once its rendition's
 * playlist lists it, which the pipeline writes after the segment itself.
 * When the broadcast has ended, the rest goes up (the last segments, then the
 * final playlists and the thumbnail, so the bucket never holds a playlist
 * naming a missing file); the video is then marked as stored in the bucket,
 * and only then is the local copy removed. A failed upload keeps the local
 * copy and is retried with a growing delay, and counted and logged.
 */
export class RecordingUploader {
  /** Per video, the files already in the bucket (this process's view: a restart uploads again). */
  private readonly uploaded = new Map<string, Set<string>>();
  /** Per video, the files that were left waiting by its last failed pass. */
  private readonly waiting = new Map<string, number>();
  private readonly retries = new Map<string, { at: number; delayMs: number }>();
  private readonly loop: DrainLoop;
  /** Files put and puts failed since start. */
  uploads = 0;
  failures = 0;

  constructor(
    private readonly o: {
      videos: VideoRepository;
      store: ObjectStore;
      mediaDir: string;
      logger: Logger;
      intervalMs: number;
      now?: () => number;
    },
  ) {
    this.loop = new DrainLoop({
      pass: () => this.pass(),
      intervalMs: o.intervalMs,
      onError: (err) => o.logger.error({ err }, 'recording upload pass failed'),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Looks at once (a broadcast just ended). */
  kick(): void {
    this.loop.kick();
  }

  /** Resolves when a pass started after this call is over. */
  drain(): Promise<void> {
    return this.loop.drain();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Files known to wait for an upload that failed (0 when every upload is going through). */
  get backlog(): number {
    let n = 0;
    for (const v of this.waiting.values()) n += v;
    return n;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  private async pass(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.o.mediaDir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && VIDEO_ID.test(e.name))
        .map((e) => e.name);
    } catch {
      return; // No media folder yet: nothing was ever recorded here.
    }
    const rows = new Map((await this.o.videos.getMany(names)).map((v) => [v.id, v]));
    for (const id of [...this.uploaded.keys()]) if (!names.includes(id)) this.forget(id);
    for (const id of names) {
      const v = rows.get(id);
      if (!v) {
        // A broadcast's row is written before its pipeline makes the folder: this video was
        // deleted, and its purge ran on another replica, which cannot reach this disk. A folder
        // this young is left for a later pass all the same.
        const dir = join(this.o.mediaDir, id);
        const changed = (await stat(dir).catch(() => null))?.mtimeMs ?? this.now();
        if (this.now() - changed < ORPHAN_AGE_MS) continue;
        await rm(dir, { recursive: true, force: true });
        this.forget(id);
        continue;
      }
      const retry = this.retries.get(id);
      if (retry && retry.at > this.now()) continue;
      try {
        await this.sync(v);
        this.retries.delete(id);
        this.waiting.delete(id);
      } catch (err) {
        const delayMs = Math.min(retry ? retry.delayMs * 2 : FIRST_RETRY_MS, MAX_RETRY_MS);
        this.retries.set(id, { at: this.now() + delayMs, delayMs });
        this.o.logger.warn(
          {
            err,
            videoId: id,
            channel: v.channel,
            waiting: this.waiting.get(id),
            retryInMs: delayMs,
          },
          'could not upload a recording to the bucket; its local copy is kept and the upload retried',
        );
      }
    }
  }

  private async sync(v: VideoRow): Promise<void> {
    const dir = join(this.o.mediaDir, v.id);
    if (v.storage === 's3') {
      // Stored, but the removal of the local copy did not happen (a crash, a failed rm).
      await rm(dir, { recursive: true, force: true });
      this.forget(v.id);
      return;
    }
    let done = this.uploaded.get(v.id);
    if (!done) {
      done = await this.alreadyStored(v.id, dir);
      this.uploaded.set(v.id, done);
    }
    if (OPEN_STATES.has(v.state)) {
      await this.putAll(
        v.id,
        dir,
        (await completedMedia(dir)).filter((f) => !done.has(f)),
      );
      return;
    }
    // Closed without anything playable: nothing to serve, and retention removes it.
    if (v.master_path === null) return;
    const files = await filesUnder(dir);
    const media = files.filter((f) => !f.endsWith('.m3u8') && f !== 'thumbnail.jpg');
    await this.putAll(
      v.id,
      dir,
      media.filter((f) => !done.has(f)),
    );
    await this.putAll(
      v.id,
      dir,
      files.filter((f) => !media.includes(f)),
    );
    if (!(await this.o.videos.markStored(v.id))) {
      // Deleted while it went up: what this pass put is not the purge's to know of.
      await this.o.store.deleteVideo(v.id);
    }
    await rm(dir, { recursive: true, force: true });
    this.forget(v.id);
    this.o.logger.info({ videoId: v.id, files: files.length }, 'recording stored in the bucket');
  }

  private async putAll(videoId: string, dir: string, files: string[]): Promise<void> {
    const done = this.uploaded.get(videoId)!;
    const queue = [...files];
    this.waiting.set(videoId, queue.length);
    const failures: Error[] = [];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f !== undefined && failures.length === 0; f = queue.shift()) {
        try {
          const body = await readFile(join(dir, ...f.split('/')));
          await this.o.store.put(
            this.o.store.key(videoId, f),
            body,
            contentTypeOf(f) ?? 'application/octet-stream',
          );
          done.add(f);
          this.uploads += 1;
        } catch (err) {
          this.failures += 1;
          failures.push(err instanceof Error ? err : new Error('upload failed', { cause: err }));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
    this.waiting.set(videoId, files.filter((f) => !done.has(f)).length);
    if (failures[0]) throw failures[0];
  }

  /**
   * The media files of a video already in the bucket, as this replica finds
   * it the first time (after a restart, say): an object of the same size is
   * the same file, since segments never change once written.
   */
  private async alreadyStored(videoId: string, dir: string): Promise<Set<string>> {
    const done = new Set<string>();
    // Only a saving: when the bucket cannot be listed, the uploads say what is wrong.
    const stored = await this.o.store.listVideo(videoId).catch(() => new Map<string, number>());
    for (const [path, size] of stored) {
      if (path.endsWith('.m3u8') || !path.split('/').every(isSafeName)) continue;
      const local = await stat(join(dir, ...path.split('/'))).catch(() => null);
      if (local?.size === size) done.add(path);
    }
    return done;
  }

  private forget(id: string): void {
    this.uploaded.delete(id);
    this.waiting.delete(id);
    this.retries.delete(id);
  }
}

/**
 * The media files of a live recording that are complete: those its
 * renditions' playlists list (segments, and the init sections they map).
 */
async function completedMedia(dir: string): Promise<string[]> {
  const out: string[] = [];
  let renditions: string[];
  try {
    renditions = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && isSafeName(e.name))
      .map((e) => e.name);
  } catch {
    return out;
  }
  for (const r of renditions) {
    const playlist = await readFile(join(dir, r, 'index.m3u8'), 'utf8').catch(() => null);
    if (playlist === null) continue;
    const seen = new Set<string>();
    for (const line of playlist.split('\n')) {
      const map = /^#EXT-X-MAP:.*URI="([^"]+)"/.exec(line);
      const uri = map ? map[1] : line.startsWith('#') ? undefined : line.trim();
      if (uri && isSafeName(uri) && !seen.has(uri)) {
        seen.add(uri);
        out.push(`${r}/${uri}`);
      }
    }
  }
  return out;
}

/** Every file under `dir`, `/`-separated and relative to it, but for unfinished atomic writes. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
    .map((e) => {
      const parent = (e.parentPath ?? dir).slice(dir.length).split(/[\\/]/).filter(Boolean);
      return [...parent, e.name].join('/');
    });
}
