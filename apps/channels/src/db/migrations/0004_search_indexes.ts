import type { Migration } from '@neon/db';

/**
 * Search reads candidates from indexes only: usernames by prefix (a pattern-ops
 * b-tree, whatever the database's collation) and by trigram similarity (a
 * misspelled username), besides the search text's trigram index.
 */
export const searchIndexes: Migration = {
  id: '0004_search_indexes',
  up: async (q) => {
    await q.query(
      `CREATE INDEX channels_username_prefix ON channels.channels (username text_pattern_ops)`,
    );
    await q.query(
      `CREATE INDEX channels_username_trgm ON channels.channels USING gin (username gin_trgm_ops)`,
    );
  },
};
