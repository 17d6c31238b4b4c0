import type { Category } from '@neon/contracts';
import type { Db } from '@neon/db';
import { SELECT_CHANNEL, type ChannelRow } from './channel-sql.js';

/** Rows each search candidate source contributes before ranking. */
const CANDIDATES = 100;
/** Usernames read on each side of the text, forwards and reversed. */
const NEIGHBOURS = 20;
/** A username this similar to the text is taken as the one meant: no trigram probe runs. */
const CLOSE_NAME = 0.5;
/** pg_trgm similarity a misspelled username keeps with the one meant. */
const USERNAME_SIMILARITY = 0.4;
/** pg_trgm word similarity for a word of the name, title, tags or category. */
const WORD_SIMILARITY = 0.6;
/** A match elsewhere than the username counts for a little less than the same match on it. */
const TEXT_WEIGHT = 0.8;
/** What being live adds to a channel's score: enough to order near-equal matches, no more. */
const LIVE_BOOST = 0.1;

/**
 * Search's cheap candidates ($1 the text, $2 `%text%`, $3 `text%`, $4 the page
 * size): usernames by prefix, search texts by substring unless the prefixes
 * fill the page, and the usernames sorting next to the text and to its reverse.
 */
const NEAR_CANDIDATES = `
  (SELECT user_id FROM channels.channels WHERE username COLLATE "C" LIKE $3
    ORDER BY username COLLATE "C" LIMIT ${CANDIDATES})
  UNION
  (SELECT user_id FROM channels.channels
    WHERE search_text LIKE $2
      AND (SELECT count(*) FROM (SELECT 1 FROM channels.channels
                                  WHERE username COLLATE "C" LIKE $3 LIMIT $4) p) < $4
    LIMIT ${CANDIDATES})
  UNION
  (SELECT user_id FROM channels.channels WHERE username COLLATE "C" > $1
    ORDER BY username COLLATE "C" LIMIT ${NEIGHBOURS})
  UNION
  (SELECT user_id FROM channels.channels WHERE username COLLATE "C" < $1
    ORDER BY username COLLATE "C" DESC LIMIT ${NEIGHBOURS})
  UNION
  (SELECT user_id FROM channels.channels WHERE reverse(username) COLLATE "C" >= reverse($1)
    ORDER BY reverse(username) COLLATE "C" LIMIT ${NEIGHBOURS})
  UNION
  (SELECT user_id FROM channels.channels WHERE reverse(username) COLLATE "C" < reverse($1)
    ORDER BY reverse(username) COLLATE "C" DESC LIMIT ${NEIGHBOURS})`;

/**
 * The trigram candidates: usernames similar to the text and search texts with a
 * word similar to it (thresholds set in the transaction).
 */
const FUZZY_CANDIDATES = `
  (SELECT user_id FROM channels.channels WHERE username % $1
    ORDER BY similarity(username, $1) DESC LIMIT ${CANDIDATES})
  UNION
  (SELECT user_id FROM channels.channels WHERE $1 <% search_text LIMIT ${CANDIDATES})`;

/** The candidates that match, ranked, with what decides whether the trigram probes run. */
function rankCandidates(candidates: string): string {
  return `WITH candidates AS (${candidates})
    ${SELECT_CHANNEL.replace(
      'FROM channels.channels c',
      'FROM candidates JOIN channels.channels c ON c.user_id = candidates.user_id',
    ).replace(
      'l.started_at',
      `l.started_at, similarity(c.username, $1) AS name_similarity,
       (c.username LIKE $3 OR c.search_text LIKE $2) AS text_match`,
    )}
     WHERE c.username LIKE $3 OR c.search_text LIKE $2
        OR similarity(c.username, $1) >= ${USERNAME_SIMILARITY}
        OR word_similarity($1, c.search_text) >= ${WORD_SIMILARITY}
     ORDER BY (c.username = $1) DESC, (c.username LIKE $3) DESC,
              GREATEST(similarity(c.username, $1),
                       ${TEXT_WEIGHT} * word_similarity($1, c.search_text),
                       CASE WHEN c.search_text LIKE $2 THEN ${TEXT_WEIGHT} ELSE 0 END)
                + CASE WHEN l.user_id IS NULL THEN 0 ELSE ${LIVE_BOOST} END DESC,
              COALESCE(l.viewers, -1) DESC, c.followers DESC, c.username
     LIMIT $4`;
}

type RankedRow = ChannelRow & { name_similarity: number; text_match: boolean };

function withoutRank(row: RankedRow): ChannelRow {
  const { name_similarity: _similarity, text_match: _match, ...channel } = row;
  return channel;
}

/**
 * Channels and categories matching `text`: prefixes and substrings exactly,
 * misspellings by trigram similarity.
 *
 * First the cheap probes, each a b-tree or trigram index read that stops
 * early: usernames starting with the text, search texts containing it (only
 * when the prefixes do not already fill the page, since they rank first
 * anyway), and the usernames that sort next to the text forwards and
 * reversed (one edit leaves a name's start or end intact, so the name meant
 * sorts close by). Only when these find no text match and no close username
 * do the trigram similarity probes run, whose posting lists are long.
 *
 * Ranking: the exact username, then usernames starting with the text, then
 * name similarity, with live as a small boost that a much closer name still
 * beats.
 */
export async function searchChannels(
  db: Db,
  text: string,
  limit: number,
): Promise<{ channels: ChannelRow[]; categories: Category[] }> {
  const lowered = text.toLowerCase();
  const escaped = lowered.replace(/[\\%_]/g, (c) => `\\${c}`);
  const like = `%${escaped}%`;
  const params = [lowered, like, `${escaped}%`, limit];
  const categories = db.query<Category>(
    // Counted from the category's live rows, which carry it.
    `SELECT cat.slug, cat.name, COALESCE(lc.live, 0)::int AS "liveChannels",
            COALESCE(lc.viewers, 0)::int AS viewers
       FROM channels.categories cat
       LEFT JOIN LATERAL (
         SELECT count(*) AS live, sum(l.viewers) AS viewers
           FROM channels.live l WHERE l.category_slug = cat.slug) lc ON true
      WHERE cat.retired_at IS NULL AND (lower(cat.name) LIKE $2 OR word_similarity($1, lower(cat.name)) >= ${WORD_SIMILARITY})
      ORDER BY COALESCE(lc.live, 0) > 0 DESC, word_similarity($1, lower(cat.name)) DESC,
               viewers DESC, cat.name
      LIMIT $3`,
    [lowered, like, limit],
  );
  const ranked = async (): Promise<RankedRow[]> => {
    const near = await db.query<RankedRow>(rankCandidates(NEAR_CANDIDATES), params);
    const settled =
      near.length >= limit ||
      near.some((r) => r.text_match) ||
      (near[0]?.name_similarity ?? 0) >= CLOSE_NAME;
    if (settled) return near;
    return db.tx(async (q) => {
      // Usernames are short, so a misspelling keeps about half of its trigrams; the search
      // text is long and only a word of it has to match, which 0.6 requires.
      await q.query(
        `SELECT set_config('pg_trgm.similarity_threshold', '${USERNAME_SIMILARITY}', true),
                  set_config('pg_trgm.word_similarity_threshold', '${WORD_SIMILARITY}', true)`,
      );
      return q.query<RankedRow>(
        rankCandidates(`${NEAR_CANDIDATES} UNION ${FUZZY_CANDIDATES}`),
        params,
      );
    });
  };
  // Both at once (on PostgreSQL, two pooled connections); a failure of either fails the search.
  const [channels, found] = await Promise.all([ranked(), categories]);
  return { channels: channels.map(withoutRank), categories: found };
}
