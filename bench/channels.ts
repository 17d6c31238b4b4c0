// npm run bench:channels — channels' search and follows at directory scale, on PostgreSQL
// and on PGlite side by side: 100,000 channels (names, tags, categories) and 2,000,000 follows.
//   1. search p50/p95 for 200 queries (prefixes, misspellings, tags) with the service's own
//      query (pg_trgm) against a plain ILIKE '%q%' scan of the same table
//   2. typo accuracy: the channel meant is the first result for ≥ 95% of misspelled names
//   3. "channels I follow, live first" for a user following 1,000 channels vs a PK lookup
//   4. follow/unfollow throughput through the service's repository (outbox included)
// Knobs: BENCH_CHANNELS (100000), BENCH_FOLLOWS (2000000), BENCH_QUERIES (200),
// BENCH_FOLLOW_SECONDS (3), BENCH_DATABASE_URL (or TEST_DATABASE_URL; unset: PGlite only),
// BENCH_ENGINES (postgres,pglite: which of the two to run).
// Results go to bench/results/channels-<time>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPgliteDb, createPostgresDb, migrate, type Db } from '@neon/db';
import { createTestDatabase } from '@neon/testing';
import { ChannelRepository } from '../apps/channels/src/channels/channel.repository.js';
import { SEEDED_CATEGORIES } from '../apps/channels/src/db/migrations/0001_init.js';
import { migrations } from '../apps/channels/src/db/migrations/index.js';

const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 2_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const FOLLOW_SECONDS = Number(process.env.BENCH_FOLLOW_SECONDS ?? 3);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? '';
const ENGINES = (process.env.BENCH_ENGINES ?? 'postgres,pglite').split(',').map((e) => e.trim());
const HEAVY = 'bench-heavy';
const HEAVY_FOLLOWS = Math.min(1000, CHANNELS);

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
const TAGS = `english chill competitive speedrun cozy funny educational music coding art
  retro fps rpg strategy horror indie family-friendly pvp vtuber irl chatting esports
  drawing piano guitar cooking fitness science chess poker`.split(/\s+/);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Seeds channels, live channels and follows in the database itself (generate_series). */
async function seed(db: Db): Promise<void> {
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
    [FIRST, SECOND, slugs, TAGS, CHANNELS],
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
  const per = Math.max(1, Math.floor(FOLLOWS / CHANNELS));
  await db.query(
    `INSERT INTO channels.follows (follower_id, channel_id, created_at)
     SELECT 'c' || f, 'c' || ((f * 31 + k * 4999 + 1) % $1), now() - (k || ' minutes')::interval
       FROM generate_series(0, $1::int - 1) f, generate_series(0, $2::int - 1) k
     ON CONFLICT DO NOTHING`,
    [CHANNELS, per],
  );
  await db.query(
    `INSERT INTO channels.follows (follower_id, channel_id, created_at)
     SELECT $1, 'c' || ((j * 97) % $2), now() - (j || ' seconds')::interval
       FROM generate_series(0, $3::int - 1) j ON CONFLICT DO NOTHING`,
    [HEAVY, CHANNELS, HEAVY_FOLLOWS],
  );
  await db.query(`ANALYZE channels.channels`);
  await db.query(`ANALYZE channels.follows`);
}

interface Query {
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

async function queries(db: Db): Promise<Query[]> {
  // Misspelled names of channels that exist: the whole "firstsecond" part of a username.
  const sample = await db.query<{ username: string }>(
    `SELECT username FROM channels.channels WHERE user_id <> $1
      ORDER BY hashtext(user_id) LIMIT $2`,
    [HEAVY, QUERIES],
  );
  const out: Query[] = [];
  for (let i = 0; out.length < QUERIES; i++) {
    const u = sample[i % sample.length]!.username;
    const kind = (['prefix', 'typo', 'tag', 'typo', 'prefix'] as const)[i % 5]!;
    if (kind === 'prefix') out.push({ kind, q: u.slice(0, 4 + (i % 4)) });
    else if (kind === 'tag') out.push({ kind, q: TAGS[i % TAGS.length]! });
    else out.push({ kind, q: misspell(u, i), meant: u });
  }
  return out;
}

async function measure(name: string, db: Db): Promise<Record<string, unknown>> {
  const repo = new ChannelRepository(db);
  const qs = await queries(db);
  const search: number[] = [];
  const scan: number[] = [];
  let meant = 0;
  let typos = 0;
  for (const q of qs) {
    const [ms, found] = await timed(() => repo.search(q.q, 20));
    search.push(ms);
    if (q.meant) {
      typos++;
      if (found.channels[0]?.username === q.meant) meant++;
    }
    const [scanMs] = await timed(() =>
      db.query(
        `SELECT user_id FROM channels.channels
          WHERE username ILIKE $1 OR display_name ILIKE $1 OR title ILIKE $1
             OR array_to_string(tags, ' ') ILIKE $1 LIMIT 20`,
        [`%${q.q}%`],
      ),
    );
    scan.push(scanMs);
  }
  search.sort((a, b) => a - b);
  scan.sort((a, b) => a - b);

  const follows: number[] = [];
  const pk: number[] = [];
  for (let i = 0; i < 100; i++) {
    follows.push((await timed(() => repo.following(HEAVY, 25, null)))[0]);
    pk.push(
      (
        await timed(() =>
          db.query(`SELECT * FROM channels.channels WHERE user_id = $1`, [
            `c${(i * 37) % CHANNELS}`,
          ]),
        )
      )[0],
    );
  }
  follows.sort((a, b) => a - b);
  pk.sort((a, b) => a - b);

  // Follow then unfollow a rotating channel, as the routes do (outbox rows included).
  let ops = 0;
  const until = performance.now() + FOLLOW_SECONDS * 1000;
  const event = { channel: 'x', channelId: 'x', userId: HEAVY, username: HEAVY };
  for (let i = 0; performance.now() < until; i++) {
    const target = `c${(i * 13 + 1) % CHANNELS}`;
    await repo.follow(HEAVY, target, event);
    await repo.unfollow(HEAVY, target, event);
    ops += 2;
  }
  const result = {
    searchP50Ms: round(percentile(search, 50)),
    searchP95Ms: round(percentile(search, 95)),
    ilikeP50Ms: round(percentile(scan, 50)),
    ilikeP95Ms: round(percentile(scan, 95)),
    p95Speedup: round(percentile(scan, 95) / percentile(search, 95)),
    typoFirstHit: round((100 * meant) / Math.max(1, typos)),
    typoQueries: typos,
    myFollowsP95Ms: round(percentile(follows, 95)),
    pkLookupP95Ms: round(percentile(pk, 95)),
    myFollowsVsPk: round(percentile(follows, 95) / percentile(pk, 95)),
    followOpsPerSecond: Math.round(ops / FOLLOW_SECONDS),
  };
  console.log(`\n${name}`);
  for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(20)} ${v}`);
  return result;
}

async function run(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>) {
  const opened = await open();
  const db = opened.db;
  try {
    const [migrateMs] = await timed(() => migrate(db, 'channels', migrations));
    const [seedMs] = await timed(() => seed(db));
    console.log(
      `${name}: migrated in ${round(migrateMs)} ms, seeded in ${Math.round(seedMs / 1000)} s`,
    );
    return { seedSeconds: Math.round(seedMs / 1000), ...(await measure(name, db)) };
  } finally {
    await opened.close();
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    cores: cpus().length,
    channels: CHANNELS,
    follows: FOLLOWS,
    queries: QUERIES,
  };
  if (DATABASE_URL && ENGINES.includes('postgres')) {
    results.postgres = await run('PostgreSQL', async () => {
      const tdb = await createTestDatabase(DATABASE_URL);
      const db = createPostgresDb({ url: tdb.url, max: 4 });
      return {
        db,
        async close() {
          await db.close();
          await tdb.drop();
        },
      };
    });
  } else if (ENGINES.includes('postgres'))
    console.log('PostgreSQL skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL)');
  if (ENGINES.includes('pglite'))
    results.pglite = await run('PGlite', async () => {
      const db = await createPgliteDb({});
      return { db, close: () => db.close() };
    });
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `channels-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`\nsaved ${file}`);
}

await main();
