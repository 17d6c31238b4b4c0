import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DrainLoop, type Logger } from '@neon/kit';
import type { ObjectStore } from './object-store.js';
import type { VideoRepository, VideoRow } from './video.repository.js';

export type DeleteOutcome = 'deleted' | 'missing' | 'not-owner';

const DAY_MS = 86_400_000;
/** Deletions and expiries handled per pass; the next pass takes the rest. */
const BATCH = 100;

/**
 * Past broadcasts as their owners manage them (from the dashboard or through
 * an application), their removal, and retention.
 */
export class VideoService {
  private readonly housekeeping: DrainLoop;

  constructor(
    private readonly o: {
      videos: VideoRepository;
      mediaDir: string;
      store: ObjectStore | null;
      logger: Logger;
      /** 0: recordings are kept until their owners delete them. */
      retentionDays: number;
      /** How often expiries are looked for and failed removals retried. */
      housekeepingMs?: number;
      now?: () => number;
    },
  ) {
    this.housekeeping = new DrainLoop({
      pass: () => this.housekeep(),
      intervalMs: o.housekeepingMs ?? 60_000,
      onError: (err) => o.logger.error({ err }, 'video housekeeping failed'),
    });
  }

  start(): void {
    this.housekeeping.start();
  }

  stop(): Promise<void> {
    return this.housekeeping.stop();
  }

  /** Runs a housekeeping pass now; resolves when it is over. */
  housekeepNow(): Promise<void> {
    return this.housekeeping.drain();
  }

  /** When retention deletes this video; null when it is kept, live, or nothing expires. */
  expiresAt(v: Pick<VideoRow, 'keep' | 'ended_at'>): Date | null {
    if (this.o.retentionDays === 0 || v.keep || v.ended_at === null) return null;
    return new Date(v.ended_at.getTime() + this.o.retentionDays * DAY_MS);
  }

  /**
   * Deletes one of the owner's past broadcasts. A broadcast still live is not
   * a video yet (`missing`). Of two deletes at once, one is `deleted`, the other `missing`.
   */
  async delete(ownerId: string, id: string): Promise<DeleteOutcome> {
    const v = await this.o.videos.get(id);
    if (!v || (v.state !== 'ended' && v.state !== 'failed')) return 'missing';
    if (v.user_id !== ownerId) return 'not-owner';
    return (await this.remove(v.id)) ? 'deleted' : 'missing';
  }

  /**
   * The row goes first, with a purge queued in the same transaction: once it
   * is gone nothing serves the files, and files a failed removal leaves
   * behind are removed by a later pass.
   */
  private async remove(id: string): Promise<boolean> {
    if (!(await this.o.videos.delete(id))) return false;
    await this.purge(id).catch((err: unknown) =>
      this.o.logger.warn(
        { err, videoId: id },
        'files of a deleted video not removed yet; retrying',
      ),
    );
    return true;
  }

  private async purge(id: string): Promise<void> {
    await rm(join(this.o.mediaDir, id), { recursive: true, force: true });
    await this.o.store?.deleteVideo(id);
    await this.o.videos.purged(id);
  }

  private async housekeep(): Promise<void> {
    for (const id of await this.o.videos.listPurges(BATCH)) {
      try {
        await this.purge(id);
      } catch (err) {
        this.o.logger.warn({ err, videoId: id }, 'files of a deleted video not removed yet');
      }
    }
    if (this.o.retentionDays === 0) return;
    const before = new Date((this.o.now?.() ?? Date.now()) - this.o.retentionDays * DAY_MS);
    const expired = await this.o.videos.listExpired(before, BATCH);
    for (const v of expired) await this.remove(v.id);
    if (expired.length > 0)
      this.o.logger.info(
        { videos: expired.length, retentionDays: this.o.retentionDays },
        'deleted recordings past the retention period',
      );
  }
}
