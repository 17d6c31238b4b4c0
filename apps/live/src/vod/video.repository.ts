import type { Db } from '@neon/db';
import type { Rendition } from '@neon/contracts';
import type { VideoCursor } from './video-cursor.js';

export type VideoState = 'publishing' | 'ready' | 'unhealthy' | 'ended' | 'failed';

export interface VideoRow {
  id: string;
  user_id: string;
  channel: string;
  title: string;
  state: VideoState;
  started_at: Date;
  ended_at: Date | null;
  duration_seconds: number;
  has_thumbnail: boolean;
  renditions: Rendition[];
  master_path: string | null;
  /** `s3`: every file is in the bucket and the local copy is gone (or going). */
  storage: 'local' | 's3';
  keep: boolean;
}

const COLUMNS =
  'id, user_id, channel, title, state, started_at, ended_at, duration_seconds, has_thumbnail, renditions, master_path, storage, keep';

function normalise(r: VideoRow): VideoRow {
  return {
    ...r,
    started_at: new Date(r.started_at),
    ended_at: r.ended_at ? new Date(r.ended_at) : null,
    duration_seconds: Number(r.duration_seconds),
    renditions:
      typeof r.renditions === 'string' ? (JSON.parse(r.renditions) as Rendition[]) : r.renditions,
  };
}

/** SQL for broadcasts and the VODs they leave behind (one row each). */
export class VideoRepository {
  constructor(private readonly db: Db) {}

  async create(v: {
    id: string;
    userId: string;
    channel: string;
    title: string;
    startedAt: Date;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO live.videos (id, user_id, channel, title, state, started_at)
       VALUES ($1, $2, $3, $4, 'publishing', $5)`,
      [v.id, v.userId, v.channel, v.title, v.startedAt],
    );
  }

  async setState(id: string, state: VideoState): Promise<void> {
    await this.db.query('UPDATE live.videos SET state = $2 WHERE id = $1', [id, state]);
  }

  async setRenditions(id: string, renditions: Rendition[]): Promise<void> {
    await this.db.query('UPDATE live.videos SET renditions = $2 WHERE id = $1', [
      id,
      JSON.stringify(renditions),
    ]);
  }

  async setTitleOfLive(userId: string, title: string): Promise<void> {
    await this.db.query(
      `UPDATE live.videos SET title = $2 WHERE user_id = $1 AND state IN ('publishing', 'ready', 'unhealthy')`,
      [userId, title],
    );
  }

  async finish(
    id: string,
    f: {
      state: 'ended' | 'failed';
      endedAt: Date;
      durationSeconds: number;
      hasThumbnail: boolean;
      masterPath: string | null;
    },
  ): Promise<void> {
    // A recording keeps the stream's title with its date ("Speedrun night — 6 Dec 2026"), so
    // two broadcasts of the same title stay apart; only the first finish adds it.
    await this.db.query(
      `UPDATE live.videos SET state = $2, ended_at = $3, duration_seconds = $4, has_thumbnail = $5, master_path = $6,
         title = CASE WHEN state IN ('ended', 'failed') THEN title
                      ELSE title || ' — ' || to_char(started_at AT TIME ZONE 'UTC', 'FMDD Mon YYYY') END
       WHERE id = $1`,
      [id, f.state, f.endedAt, f.durationSeconds, f.hasThumbnail, f.masterPath],
    );
  }

  async rename(id: string, title: string): Promise<void> {
    await this.db.query('UPDATE live.videos SET title = $2 WHERE id = $1', [id, title]);
  }

  async setKeep(id: string, keep: boolean): Promise<void> {
    await this.db.query('UPDATE live.videos SET keep = $2 WHERE id = $1', [id, keep]);
  }

  /** Records that every file of an ended video is in the bucket; false when the row is gone. */
  async markStored(id: string): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE live.videos SET storage = 's3' WHERE id = $1 RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  async getMany(ids: string[]): Promise<VideoRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos WHERE id = ANY($1::text[])`,
      [ids],
    );
    return rows.map(normalise);
  }

  /** Closed broadcasts that ended before `before` and that their owners do not keep, oldest first. */
  async listExpired(before: Date, limit: number): Promise<VideoRow[]> {
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos
        WHERE state IN ('ended', 'failed') AND ended_at < $1 AND NOT keep
        ORDER BY ended_at LIMIT $2`,
      [before, limit],
    );
    return rows.map(normalise);
  }

  async get(id: string): Promise<VideoRow | null> {
    const rows = await this.db.query<VideoRow>(`SELECT ${COLUMNS} FROM live.videos WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? normalise(rows[0]) : null;
  }

  /** Past broadcasts of a channel, newest first. */
  async listEnded(channel: string, limit: number): Promise<VideoRow[]> {
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos WHERE channel = $1 AND state IN ('ended', 'failed') AND master_path IS NOT NULL
       ORDER BY started_at DESC LIMIT $2`,
      [channel, limit],
    );
    return rows.map(normalise);
  }

  /**
   * A page of a user's past broadcasts, newest first (ties by id), after a
   * cursor; each row with its start to the microsecond, for the next cursor.
   */
  async pageEndedOfUser(
    userId: string,
    limit: number,
    after: VideoCursor | null,
  ): Promise<(VideoRow & { cursor_at: string })[]> {
    const params: (string | number)[] = [userId, limit];
    let where = '';
    if (after) {
      params.push(after.at, after.id);
      where = 'AND (started_at, id) < ($3::timestamptz, $4)';
    }
    const rows = await this.db.query<VideoRow & { cursor_at: string }>(
      `SELECT ${COLUMNS},
              to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
         FROM live.videos
        WHERE user_id = $1 AND state IN ('ended', 'failed') AND master_path IS NOT NULL ${where}
        ORDER BY started_at DESC, id DESC LIMIT $2`,
      params,
    );
    return rows.map((r) => ({ ...normalise(r), cursor_at: r.cursor_at }));
  }

  async listLive(): Promise<VideoRow[]> {
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos WHERE state IN ('ready', 'unhealthy') ORDER BY started_at`,
    );
    return rows.map(normalise);
  }

  async liveOf(channel: string): Promise<VideoRow | null> {
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos WHERE channel = $1 AND state IN ('ready', 'unhealthy')
       ORDER BY started_at DESC LIMIT 1`,
      [channel],
    );
    return rows[0] ? normalise(rows[0]) : null;
  }

  /**
   * Deletes the row and queues the removal of its files, in one transaction;
   * false when there was no row (already deleted, perhaps at the same time).
   */
  async delete(id: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const rows = await q.query<{ id: string }>(
        'DELETE FROM live.videos WHERE id = $1 RETURNING id',
        [id],
      );
      if (rows.length === 0) return false;
      await q.query(
        'INSERT INTO live.video_purges (video_id) VALUES ($1) ON CONFLICT (video_id) DO NOTHING',
        [id],
      );
      return true;
    });
  }

  /** Deleted videos whose files may still be somewhere, oldest first. */
  async listPurges(limit: number): Promise<string[]> {
    const rows = await this.db.query<{ video_id: string }>(
      'SELECT video_id FROM live.video_purges ORDER BY requested_at LIMIT $1',
      [limit],
    );
    return rows.map((r) => r.video_id);
  }

  async purged(id: string): Promise<void> {
    await this.db.query('DELETE FROM live.video_purges WHERE video_id = $1', [id]);
  }

  /** A channel's broadcasts not closed. */
  async listOpenOf(channel: string): Promise<VideoRow[]> {
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos WHERE channel = $1 AND state IN ('publishing', 'ready', 'unhealthy')`,
      [channel],
    );
    return rows.map(normalise);
  }

  /** Broadcasts not closed: live ones, or those a crashed process left open. */
  async listOpen(): Promise<VideoRow[]> {
    const rows = await this.db.query<VideoRow>(
      `SELECT ${COLUMNS} FROM live.videos WHERE state IN ('publishing', 'ready', 'unhealthy') ORDER BY started_at`,
    );
    return rows.map(normalise);
  }
}
