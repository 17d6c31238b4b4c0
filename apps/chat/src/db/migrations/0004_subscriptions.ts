import type { Migration } from '@neon/db';

const statements = [
  // Chat's copy of payments' subscriptions: who may write in subscribers-only mode, and the badge's months.
  `CREATE TABLE chat.subscriptions (
     subscription_id text PRIMARY KEY,
     channel text NOT NULL,
     user_id text NOT NULL,
     entitled boolean NOT NULL,
     months integer NOT NULL,
     version integer NOT NULL
   )`,
  `CREATE INDEX subscriptions_member ON chat.subscriptions (channel, user_id)`,
];

export const m0004: Migration = {
  id: '0004_subscriptions',
  async up(q) {
    for (const sql of statements) await q.query(sql);
  },
};
