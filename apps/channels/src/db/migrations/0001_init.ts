import type { Migration } from '@neon/db';

/** The categories a fresh platform starts with; admins add, rename and retire them later. */
export const SEEDED_CATEGORIES: readonly (readonly [slug: string, name: string])[] = [
  ['just-chatting', 'Just Chatting'],
  ['music', 'Music'],
  ['art', 'Art'],
  ['software-and-game-development', 'Software and Game Development'],
  ['science-and-technology', 'Science and Technology'],
  ['sports', 'Sports'],
  ['talk-shows', 'Talk Shows'],
  ['travel-and-outdoors', 'Travel and Outdoors'],
  ['retro', 'Retro'],
  ['food-and-drink', 'Food and Drink'],
  ['makers-and-crafting', 'Makers and Crafting'],
  ['fitness-and-health', 'Fitness and Health'],
  ['asmr', 'ASMR'],
  ['chess', 'Chess'],
  ['poker', 'Poker'],
  ['minecraft', 'Minecraft'],
  ['fortnite', 'Fortnite'],
  ['league-of-legends', 'League of Legends'],
  ['valorant', 'Valorant'],
  ['counter-strike', 'Counter-Strike'],
  ['dota-2', 'Dota 2'],
  ['grand-theft-auto-v', 'Grand Theft Auto V'],
  ['apex-legends', 'Apex Legends'],
  ['call-of-duty-warzone', 'Call of Duty: Warzone'],
  ['world-of-warcraft', 'World of Warcraft'],
  ['overwatch-2', 'Overwatch 2'],
  ['rocket-league', 'Rocket League'],
  ['hearthstone', 'Hearthstone'],
  ['elden-ring', 'Elden Ring'],
  ['baldurs-gate-3', "Baldur's Gate 3"],
  ['the-legend-of-zelda', 'The Legend of Zelda'],
  ['super-mario', 'Super Mario'],
  ['pokemon', 'Pokémon'],
  ['stardew-valley', 'Stardew Valley'],
  ['terraria', 'Terraria'],
  ['among-us', 'Among Us'],
  ['rust', 'Rust'],
  ['dead-by-daylight', 'Dead by Daylight'],
  ['escape-from-tarkov', 'Escape from Tarkov'],
  ['path-of-exile', 'Path of Exile'],
  ['diablo-iv', 'Diablo IV'],
  ['ea-sports-fc', 'EA Sports FC'],
  ['street-fighter-6', 'Street Fighter 6'],
  ['tekken-8', 'Tekken 8'],
  ['hollow-knight', 'Hollow Knight'],
  ['factorio', 'Factorio'],
  ['the-sims-4', 'The Sims 4'],
];

export const init: Migration = {
  id: '0001_init',
  // One statement per query: PGlite's extended protocol takes no multi-statement strings.
  up: async (q) => {
    for (const sql of STATEMENTS) await q.query(sql);
    for (const [i, [slug, name]] of SEEDED_CATEGORIES.entries())
      await q.query(`INSERT INTO channels.categories (slug, name, position) VALUES ($1, $2, $3)`, [
        slug,
        name,
        i,
      ]);
  },
};

const STATEMENTS = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
  `CREATE TABLE channels.categories (
     slug text PRIMARY KEY,
     name text NOT NULL UNIQUE,
     position integer NOT NULL DEFAULT 0,
     retired_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX categories_name_trgm ON channels.categories USING gin (lower(name) gin_trgm_ops)`,
  `-- One per user, created when identity announces the user (or on the owner's first visit).
   CREATE TABLE channels.channels (
     user_id text PRIMARY KEY,
     username text NOT NULL UNIQUE,
     display_name text NOT NULL,
     avatar_url text,
     category_slug text REFERENCES channels.categories (slug),
     tags text[] NOT NULL DEFAULT '{}',
     about text NOT NULL DEFAULT '',
     links text[] NOT NULL DEFAULT '{}',
     language text NOT NULL DEFAULT 'en',
     mature boolean NOT NULL DEFAULT false,
     followers integer NOT NULL DEFAULT 0,
     title text NOT NULL DEFAULT '',
     -- What search matches: username, display name, title and tags, lower-cased.
     search_text text NOT NULL DEFAULT '',
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX channels_search_trgm ON channels.channels USING gin (search_text gin_trgm_ops)`,
  `CREATE INDEX channels_category ON channels.channels (category_slug)`,
  `CREATE TABLE channels.follows (
     follower_id text NOT NULL,
     channel_id text NOT NULL REFERENCES channels.channels (user_id),
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (follower_id, channel_id)
   )`,
  `CREATE INDEX follows_channel_newest ON channels.follows (channel_id, created_at DESC, follower_id DESC)`,
  `CREATE INDEX follows_follower_newest ON channels.follows (follower_id, created_at DESC, channel_id DESC)`,
  `CREATE TABLE channels.roles (
     channel_id text NOT NULL REFERENCES channels.channels (user_id),
     user_id text NOT NULL REFERENCES channels.channels (user_id),
     role text NOT NULL CHECK (role IN ('moderator', 'vip')),
     granted_by text NOT NULL,
     granted_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (channel_id, user_id, role)
   )`,
  `CREATE INDEX roles_user ON channels.roles (user_id)`,
  `-- Who changed which role on which channel, kept after a revoke.
   CREATE TABLE channels.audit (
     id bigserial PRIMARY KEY,
     actor_id text NOT NULL,
     action text NOT NULL,
     channel_id text NOT NULL,
     target_id text,
     detail jsonb NOT NULL DEFAULT '{}',
     at timestamptz NOT NULL DEFAULT now()
   )`,
  `-- A projection of live's broadcasts: the channels live now.
   CREATE TABLE channels.live (
     user_id text PRIMARY KEY,
     broadcast_id text NOT NULL,
     title text NOT NULL,
     viewers integer NOT NULL DEFAULT 0,
     started_at timestamptz NOT NULL
   )`,
];
