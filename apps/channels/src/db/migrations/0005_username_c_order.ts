import type { Migration } from '@neon/db';

/**
 * Usernames by prefix in byte order: a "C" collated b-tree both answers
 * `LIKE 'q%'` with a range and returns the rows in the order the query asks, so
 * the first hundred are read and no more. The pattern-ops index it replaces
 * could not give that order, and the planner walked the unique index instead.
 */
export const usernameCOrder: Migration = {
  id: '0005_username_c_order',
  up: async (q) => {
    await q.query(`DROP INDEX IF EXISTS channels.channels_username_prefix`);
    await q.query(`CREATE INDEX channels_username_c ON channels.channels ((username COLLATE "C"))`);
  },
};
