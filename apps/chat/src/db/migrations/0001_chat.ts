import type { Migration } from '@neon/db';

const statements = `
    CREATE TABLE chat.users (
      id text PRIMARY KEY,
      username text NOT NULL UNIQUE,
      display_name text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE chat.roles (
      channel text NOT NULL,
      user_id text NOT NULL,
      role text NOT NULL,
      granted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (channel, user_id, role)
    );
    CREATE TABLE chat.messages (
      id uuid PRIMARY KEY,
      channel text NOT NULL,
      sender_id text NOT NULL,
      sender jsonb NOT NULL,
      body text NOT NULL,
      sent_at timestamptz NOT NULL,
      deleted_at timestamptz
    );
    CREATE INDEX messages_channel_id ON chat.messages (channel, id);
    CREATE TABLE chat.room_settings (
      channel text PRIMARY KEY,
      slow_seconds integer NOT NULL DEFAULT 0,
      followers_only boolean NOT NULL DEFAULT false,
      subscribers_only boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE chat.bans (
      channel text NOT NULL,
      user_id text NOT NULL,
      until timestamptz,
      reason text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (channel, user_id)
    );
    CREATE TABLE chat.moderation_log (
      id uuid PRIMARY KEY,
      channel text NOT NULL,
      actor_id text NOT NULL,
      actor_username text NOT NULL,
      action text NOT NULL,
      target_user_id text,
      target_message_id text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX moderation_log_channel_id ON chat.moderation_log (channel, id DESC);
`;

export const m0001: Migration = {
  id: '0001_chat',
  // One statement per query: PGlite's extended protocol takes no multi-statement strings.
  async up(q) {
    for (const sql of statements.split(';').map((s) => s.trim())) if (sql) await q.query(sql);
  },
};
