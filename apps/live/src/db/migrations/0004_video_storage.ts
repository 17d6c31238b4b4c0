import type { Migration } from '@neon/db';

/**
 * Where a recording's files are (`local`: the replica's media folder; `s3`:
 * every file in the bucket), whether its owner keeps it past the retention
 * period, and the files of deleted videos still to be removed (a video's row
 * goes at once; its files, local and in the bucket, are removed after, and
 * again until that succeeds).
 */
export const videoStorage: Migration = {
  id: '0004_video_storage',
  // One statement per query: PGlite's extended protocol takes no multi-statement strings.
  up: async (q) => {
    await q.query(
      `ALTER TABLE live.videos ADD COLUMN storage text NOT NULL DEFAULT 'local', ADD COLUMN keep boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      `CREATE INDEX videos_expiry ON live.videos (ended_at) WHERE NOT keep AND state IN ('ended', 'failed')`,
    );
    await q.query(
      `CREATE TABLE live.video_purges (
         video_id text PRIMARY KEY,
         requested_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  },
};
