import type { Migration } from '@neon/db';

export const init: Migration = {
  id: '0001_init',
  // One statement per query: PGlite's extended protocol takes no multi-statement strings.
  up: async (q) => {
    for (const sql of STATEMENTS) await q.query(sql);
  },
};

const STATEMENTS = [
  `    CREATE TABLE live.users (
      id text PRIMARY KEY,
      username text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  `-- One row per channel: its stream key (hashed for lookup, sealed for its owner) and title.
    CREATE TABLE live.channels (
      user_id text PRIMARY KEY,
      username text NOT NULL UNIQUE,
      title text NOT NULL,
      key_hash bytea NOT NULL UNIQUE,
      key_sealed text NOT NULL,
      key_created_at timestamptz NOT NULL DEFAULT now()
    )`,
  `-- Every broadcast, live or past; an ended one is a VOD.
    CREATE TABLE live.videos (
      id text PRIMARY KEY,
      user_id text NOT NULL,
      channel text NOT NULL,
      title text NOT NULL,
      state text NOT NULL,
      started_at timestamptz NOT NULL,
      ended_at timestamptz,
      duration_seconds double precision NOT NULL DEFAULT 0,
      has_thumbnail boolean NOT NULL DEFAULT false,
      renditions jsonb NOT NULL DEFAULT '[]',
      -- The VOD master playlist, relative to the broadcast's media folder.
      master_path text
    )`,
  `CREATE INDEX videos_channel_started ON live.videos (channel, started_at DESC)`,
];
