import type { Migration } from '@neon/db';

/** `/public/v1/videos` pages a user's recordings newest first: one index walk per page. */
export const videosByUser: Migration = {
  id: '0002_videos_by_user',
  up: `CREATE INDEX videos_user_started ON live.videos (user_id, started_at DESC, id DESC)`,
};
