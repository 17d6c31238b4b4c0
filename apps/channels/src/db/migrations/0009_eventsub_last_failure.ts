import type { Migration } from '@neon/db';

/**
 * The last failed attempt at a subscription's callback and why, kept on the
 * subscription: the message that failed is gone once it is given up or the
 * subscription revoked, and the developer console shows the reason then most.
 */
export const eventsubLastFailure: Migration = {
  id: '0009_eventsub_last_failure',
  up: async (q) => {
    await q.query(
      `ALTER TABLE channels.eventsub_subscriptions ADD COLUMN last_failure_at timestamptz`,
    );
    await q.query(`ALTER TABLE channels.eventsub_subscriptions ADD COLUMN last_failure text`);
  },
};
