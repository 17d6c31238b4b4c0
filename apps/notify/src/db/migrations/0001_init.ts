import type { Migration } from '@neon/db';

const STATEMENTS = [
  // Who follows whom, projected from channels' follow events; keyed by the channel owner's id.
  `CREATE TABLE notify.follows (
       channel_id text NOT NULL,
       user_id text NOT NULL,
       followed_at timestamptz NOT NULL,
       PRIMARY KEY (channel_id, user_id)
     )`,
  // Channel names to owner ids, for mutes by name (from the follow and live events).
  `CREATE TABLE notify.channels (
       channel_id text PRIMARY KEY,
       username text NOT NULL UNIQUE
     )`,
  // One row per user and source: a redelivered event inserts nothing twice.
  `CREATE TABLE notify.notifications (
       id bigserial PRIMARY KEY,
       user_id text NOT NULL,
       kind text NOT NULL,
       source_key text NOT NULL,
       channel text NOT NULL,
       title text,
       role text,
       created_at timestamptz NOT NULL DEFAULT now(),
       read_at timestamptz,
       UNIQUE (user_id, source_key)
     )`,
  `CREATE INDEX notifications_user_id ON notify.notifications (user_id, id DESC)`,
  `CREATE INDEX notifications_unread ON notify.notifications (user_id) WHERE read_at IS NULL`,
  `CREATE INDEX notifications_source ON notify.notifications (source_key)`,
  // The last went-live notification per channel: the 10-minute rule reads it.
  `CREATE TABLE notify.went_live (
       channel_id text PRIMARY KEY,
       broadcast_id text NOT NULL,
       notified_at timestamptz NOT NULL
     )`,
  `CREATE TABLE notify.mutes (
       user_id text NOT NULL,
       channel_id text NOT NULL,
       PRIMARY KEY (user_id, channel_id)
     )`,
  `CREATE TABLE notify.settings (
       user_id text PRIMARY KEY,
       went_live boolean NOT NULL DEFAULT true
     )`,
];

export const init: Migration = {
  id: '0001_init',
  up: async (q) => {
    for (const sql of STATEMENTS) await q.query(sql);
  },
};
