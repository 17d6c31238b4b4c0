import type { Migration } from '@neon/db';

const statements = [
  // Chat's copy of channels' follows, so followers-only mode is checked without a call.
  `CREATE TABLE chat.follows (
     channel text NOT NULL,
     user_id text NOT NULL,
     followed_at timestamptz NOT NULL,
     PRIMARY KEY (channel, user_id)
   )`,
  `ALTER TABLE chat.room_settings
     ADD COLUMN followers_only_minutes integer NOT NULL DEFAULT 0`,
];

export const m0003: Migration = {
  id: '0003_follows',
  async up(q) {
    for (const sql of statements) await q.query(sql);
  },
};
