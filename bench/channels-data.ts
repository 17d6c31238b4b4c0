// The channels benchmark's data: 100,000 generated channels (names, tags, categories, one in
// fifty live), 2,000,000 follows plus one user following 1,000 channels, seeded in the database
// itself, and the 200 queries (prefixes, misspelled usernames, tags) a run measures.
import type { Db } from '@neon/db';
import { SEEDED_CATEGORIES } from '../apps/channels/src/db/migrations/0001_init.js';

export const HEAVY = 'bench-heavy';
export const HEAVY_FOLLOWS = 1000;

// Name parts: usernames look like "pixelwizard_42", display names like "Pixel Wizard".
const FIRST = `pixel shadow neon crimson silent lucky cosmic frozen golden iron lunar mystic
  rapid rogue sonic storm toxic turbo velvet wild amber arctic blaze bright cyber dark
  ember electric epic feral ghost glitch hyper jade karma laser lime magma nova omega
  onyx phantom prism quantum radiant retro ruby rusty scarlet solar spicy stellar sunny
  swift thunder tiny ultra vivid wicked zen`.split(/\s+/);
const SECOND = `wizard gamer fox wolf ninja knight panda tiger dragon falcon otter raven
  pilot chef artist coder sniper rider hunter queen king bard monk ranger sage viking
  pirate robot golem titan phoenix kraken yeti badger beaver cobra coyote eagle hawk
  lynx moose owl puma shark sloth spider turtle whale yak builder crafter drummer singer
  speedrunner streamer`.split(/\s+/);
export const TAGS = `english chill competitive speedrun cozy funny educational music coding art
  retro fps rpg strategy horror indie family-friendly pvp vtuber irl chatting esports
  drawing piano guitar cooking fitness science chess poker`.split(/\s+/);

/** Seeds channels, live channels and follows in the database itself (generate_series). */
export async function seed(db: Db, channels: number, follows: number): Promise<void> {
  const heavyFollows = Math.min(HEAVY_FOLLOWS, channels);
  const slugs = SEEDED_CATEGORIES.map(([slug]) => slug);
  await db.query(
    `INSERT INTO channels.channels (user_id, username, display_name, category_slug, tags, title)
     SELECT 'c' || i,
            f.w || s.w || '_' || i,
            initcap(f.w) || ' ' || initcap(s.w),
            ($3::text[])[1 + (i * 7) % array_length($3::text[], 1)],
            ARRAY[($4::text[])[1 + i % array_length($4::text[], 1)],
                  ($4::text[])[1 + (i / 3) % array_length($4::text[], 1)]],
            'Playing with ' || initcap(s.w) || 's'
       FROM generate_series(0, $5::int - 1) i
       CROSS JOIN LATERAL (SELECT ($1::text[])[1 + i % array_length($1::text[], 1)] AS w) f
       CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (i / array_length($1::text[], 1)) % array_length($2::text[], 1)] AS w) s`,
    [FIRST, SECOND, slugs, TAGS, channels],
  );
  await db.query(
    `INSERT INTO channels.channels (user_id, username, display_name) VALUES ($1, $1, 'Heavy')`,
    [HEAVY],
  );
  await db.query(
    `UPDATE channels.channels c
        SET search_text = lower(c.username || ' ' || c.display_name || ' ' || c.title || ' ' ||
              array_to_string(c.tags, ' ') || ' ' ||
              COALESCE((SELECT name FROM channels.categories WHERE slug = c.category_slug), ''))`,
  );
  // One channel in fifty is live.
  await db.query(
    `INSERT INTO channels.live (user_id, broadcast_id, title, viewers, started_at)
     SELECT user_id, 'b' || user_id, title, (hashtext(user_id) & 1023), now()
       FROM channels.channels WHERE hashtext(user_id) % 50 = 0`,
  );
  // Follows: every follower follows `per` distinct channels, the heavy user 1,000.
  const per = Math.max(1, Math.floor(follows / channels));
  await db.query(
    `INSERT INTO channels.follows (follower_id, channel_id, created_at)
     SELECT 'c' || f, 'c' || ((f * 31 + k * 4999 + 1) % $1), now() - (k || ' minutes')::interval
       FROM generate_series(0, $1::int - 1) f, generate_series(0, $2::int - 1) k
     ON CONFLICT DO NOTHING`,
    [channels, per],
  );
  await db.query(
    `INSERT INTO channels.follows (follower_id, channel_id, created_at)
     SELECT $1, 'c' || ((j * 97) % $2), now() - (j || ' seconds')::interval
       FROM generate_series(0, $3::int - 1) j ON CONFLICT DO NOTHING`,
    [HEAVY, channels, heavyFollows],
  );
  await db.query(`ANALYZE channels.channels`);
  await db.query(`ANALYZE channels.follows`);
}

export interface Query {
  kind: 'prefix' | 'typo' | 'tag';
  q: string;
  /** The username a user typing this meant (typos only). */
  meant?: string;
}

/** A misspelling of a word: one letter dropped, doubled, swapped or replaced. */
function misspell(word: string, i: number): string {
  const at = 1 + (i % Math.max(1, word.length - 2));
  switch (i % 4) {
    case 0:
      return word.slice(0, at) + word.slice(at + 1);
    case 1:
      return word.slice(0, at) + word[at] + word.slice(at);
    case 2:
      return word.slice(0, at - 1) + word[at] + word[at - 1] + word.slice(at + 1);
    default:
      return word.slice(0, at) + (word[at] === 'e' ? 'a' : 'e') + word.slice(at + 1);
  }
}

export async function queries(db: Db, count: number): Promise<Query[]> {
  // Misspelled names of channels that exist: the whole "firstsecond" part of a username.
  const sample = await db.query<{ username: string }>(
    `SELECT username FROM channels.channels WHERE user_id <> $1
      ORDER BY hashtext(user_id) LIMIT $2`,
    [HEAVY, count],
  );
  const out: Query[] = [];
  for (let i = 0; out.length < count; i++) {
    const u = sample[i % sample.length]!.username;
    const kind = (['prefix', 'typo', 'tag', 'typo', 'prefix'] as const)[i % 5]!;
    if (kind === 'prefix') out.push({ kind, q: u.slice(0, 4 + (i % 4)) });
    else if (kind === 'tag') out.push({ kind, q: TAGS[i % TAGS.length]! });
    else out.push({ kind, q: misspell(u, i), meant: u });
  }
  return out;
}
