import type { Migration } from '@neon/db';

/**
 * Search's cheap probes. Usernames in byte order of their reversed text: with
 * the forward order (0005) a misspelled name is found among the few names that
 * sort next to it one way or the other, since one edit leaves either the start
 * or the end of a name intact. And each live row carries its channel's
 * category, so a category's live channels are counted from its few live rows
 * instead of from every channel in it.
 */
export const searchProbes: Migration = {
  id: '0006_search_probes',
  up: async (q) => {
    await q.query(
      `CREATE INDEX channels_username_reverse_c ON channels.channels ((reverse(username) COLLATE "C"))`,
    );
    await q.query(`ALTER TABLE channels.live ADD COLUMN category_slug text`);
    await q.query(
      `UPDATE channels.live l SET category_slug = c.category_slug
         FROM channels.channels c WHERE c.user_id = l.user_id`,
    );
    await q.query(`CREATE INDEX live_category ON channels.live (category_slug)`);
  },
};
