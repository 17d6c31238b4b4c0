import type { Migration } from '@neon/db';

/**
 * EventSub: the webhooks third-party applications subscribe to, and the
 * messages waiting to reach them. A message's id is fixed when it is written,
 * so every retry carries the same one; `due_at` is when it may be sent next
 * (a sender pushes it past its timeout while it sends: a replica that dies
 * mid-send leaves the message to be taken again, never lost).
 */
export const eventsub: Migration = {
  id: '0007_eventsub',
  // One statement per query: PGlite's extended protocol takes no multi-statement strings.
  up: async (q) => {
    for (const sql of STATEMENTS) await q.query(sql);
  },
};

const STATEMENTS = [
  `CREATE TABLE channels.eventsub_subscriptions (
     id uuid PRIMARY KEY,
     client_id text NOT NULL,
     type text NOT NULL,
     version text NOT NULL,
     broadcaster_user_id text NOT NULL,
     callback text NOT NULL,
     -- The HMAC key every message is signed with, stored as given: signing needs the key
     -- itself, so it cannot be hashed. Never returned by the API.
     secret text NOT NULL,
     status text NOT NULL CHECK (status IN (
       'webhook_callback_verification_pending', 'enabled', 'webhook_callback_verification_failed',
       'notification_failures_exceeded', 'authorization_revoked')),
     -- The user whose token made it (channel.follow: its owner or a moderator), else null.
     created_by text,
     -- Since when every message to the callback has failed; null while it answers.
     failing_since timestamptz,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX eventsub_subscriptions_client
     ON channels.eventsub_subscriptions (client_id, created_at, id)`,
  `CREATE INDEX eventsub_subscriptions_target
     ON channels.eventsub_subscriptions (broadcaster_user_id, type) WHERE status = 'enabled'`,
  `-- One live subscription per app, type, condition and callback; failed ones may be made again.
   CREATE UNIQUE INDEX eventsub_subscriptions_once
     ON channels.eventsub_subscriptions (client_id, type, broadcaster_user_id, callback)
     WHERE status IN ('webhook_callback_verification_pending', 'enabled')`,
  `CREATE TABLE channels.eventsub_messages (
     id uuid PRIMARY KEY,
     subscription_id uuid NOT NULL
       REFERENCES channels.eventsub_subscriptions (id) ON DELETE CASCADE,
     kind text NOT NULL CHECK (kind IN ('webhook_callback_verification', 'notification', 'revocation')),
     payload jsonb NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     due_at timestamptz NOT NULL DEFAULT now(),
     last_error text,
     -- When an attempt at it first failed: the subscription has taken nothing since then as
     -- long as its failing_since is no later.
     first_failed_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX eventsub_messages_due ON channels.eventsub_messages (due_at)`,
  `CREATE INDEX eventsub_messages_subscription ON channels.eventsub_messages (subscription_id)`,
];
