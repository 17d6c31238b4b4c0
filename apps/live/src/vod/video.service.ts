import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VideoRepository } from './video.repository.js';

export type DeleteOutcome = 'deleted' | 'missing' | 'not-owner';

/** Past broadcasts as their owners manage them, from the dashboard or through an application. */
export class VideoService {
  constructor(
    private readonly videos: VideoRepository,
    private readonly mediaDir: string,
  ) {}

  /**
   * Deletes one of the owner's past broadcasts: its row, then its folder
   * (playlists, segments, thumbnail). A broadcast still live is not a video
   * yet (`missing`). Of two deletes at once, one is `deleted`, the other `missing`.
   */
  async delete(ownerId: string, id: string): Promise<DeleteOutcome> {
    const v = await this.videos.get(id);
    if (!v || (v.state !== 'ended' && v.state !== 'failed')) return 'missing';
    if (v.user_id !== ownerId) return 'not-owner';
    if (!(await this.videos.delete(v.id))) return 'missing';
    // The row goes first: once it is gone nothing serves the files, and a folder left behind
    // by a failed removal is inert.
    await rm(join(this.mediaDir, v.id), { recursive: true, force: true });
    return 'deleted';
  }
}
