// npm run bench:channels — channels' search and follows at directory scale, through the
// gateway as users reach them, on PostgreSQL and on PGlite: 100,000 channels (names, tags,
// categories, one in fifty live) and 2,000,000 follows.
//   1. search p50/p95 for 200 queries (prefixes, misspellings, tags): GET /api/v1/search with a
//      real access token through the gateway, against a plain ILIKE '%q%' scan of the same
//      table (SQL only, no HTTP: the reference is given every advantage); the service's own
//      SQL without HTTP is printed too. Alternating rounds: searches then scans, then the other
//      way round; medians per round, p50/p95 over all rounds, ratios.
//   2. typo accuracy: the channel meant is the first result for >= 95% of misspelled names
//   3. "channels I follow, live first" (GET /api/v1/me/follows) for a user following 1,000
//      channels vs a channel read by its username (GET /api/v1/channels/:u), both through the
//      gateway, and the same two in SQL (the page's query vs a primary-key lookup)
//   4. follow/unfollow throughput through the service's repository (outbox rows included)
// Knobs: BENCH_CHANNELS (100000), BENCH_FOLLOWS (2000000), BENCH_QUERIES (200), BENCH_ROUNDS (4),
// BENCH_FOLLOW_SECONDS (3), BENCH_DATABASE_URL (or TEST_DATABASE_URL; unset: PGlite only),
// BENCH_ENGINES (postgres,pglite). The gateway's per-user API limit is off for the run.
// Results go to bench/results/channels-<time>.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Db } from '@neon/db';
import type { SearchResults, TokenResponse } from '@neon/contracts';
import { createTestDatabase, type TestDatabase } from '@neon/testing';
import { ChannelRepository } from '../apps/channels/src/channels/channel.repository.js';
import { startEmbedded, type Embedded } from '../launcher/src/embedded.js';
import { queries, seed, type Query } from './channels-data.js';

const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 2_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const FOLLOW_SECONDS = Number(process.env.BENCH_FOLLOW_SECONDS ?? 3);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? '';
const ENGINES = (process.env.BENCH_ENGINES ?? 'postgres,pglite').split(',').map((e) => e.trim());
const PASSWORD = 'correct horse battery staple';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const round = (ms: number) => Math.round(ms * 100) / 100;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

/** A user signed up through the gateway: their id (from the channel) and access token. */
async function signUp(url: string, username: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`sign-up: ${res.status} ${await res.text()}`);
  const { accessToken } = (await res.json()) as TokenResponse;
  const me = await fetch(`${url}/api/v1/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const { id } = (await me.json()) as { id: string };
  return { id, token: accessToken };
}

async function getJson<T>(url: string, token: string): Promise<T> {
  const get = () => fetch(url, { headers: { authorization: `Bearer ${token}` } });
  // A kept-alive connection the gateway closed while the scans ran is reset once: ask again.
  const res = await get().catch(get);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const scanSql = `SELECT user_id FROM channels.channels
  WHERE username ILIKE $1 OR display_name ILIKE $1 OR title ILIKE $1
     OR array_to_string(tags, ' ') ILIKE $1 LIMIT 20`;

async function measure(name: string, neon: Embedded, db: Db): Promise<Record<string, unknown>> {
  const repo = new ChannelRepository(db);
  const viewer = await signUp(neon.url, `benchviewer${Date.now().toString(36)}`);
  // The viewer follows 1,000 channels (some live), as the heavy user of the seed does.
  await db.query(
    `INSERT INTO channels.follows (follower_id, channel_id, created_at)
     SELECT $1, 'c' || ((j * 97) % $2), now() - (j || ' seconds')::interval
       FROM generate_series(0, LEAST(999, $2::int - 1)) j ON CONFLICT DO NOTHING`,
    [viewer.id, CHANNELS],
  );
  const qs = await queries(db, QUERIES);
  const search = (q: Query) =>
    getJson<SearchResults>(`${neon.url}/api/v1/search?q=${encodeURIComponent(q.q)}`, viewer.token);

  const gateway: number[] = [];
  const sql: number[] = [];
  const scan: number[] = [];
  const rounds: { search: number; sql: number; scan: number }[] = [];
  let meant = 0;
  let typos = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const g: number[] = [];
    const s: number[] = [];
    const c: number[] = [];
    const viaGateway = async () => {
      for (const q of qs) {
        const [ms, found] = await timed(() => search(q));
        g.push(ms);
        if (r === 0 && q.meant) {
          typos++;
          if (found.channels[0]?.username === q.meant) meant++;
        }
      }
      for (const q of qs) s.push((await timed(() => repo.search(q.q, 20)))[0]);
    };
    const viaScan = async () => {
      for (const q of qs) c.push((await timed(() => db.query(scanSql, [`%${q.q}%`])))[0]);
    };
    if (r % 2 === 0) {
      await viaGateway();
      await viaScan();
    } else {
      await viaScan();
      await viaGateway();
    }
    gateway.push(...g);
    sql.push(...s);
    scan.push(...c);
    rounds.push({
      search: round(percentile(sorted(g), 50)),
      sql: round(percentile(sorted(s), 50)),
      scan: round(percentile(sorted(c), 50)),
    });
    console.log(
      `  round ${r + 1}: medians search ${rounds[r]!.search} ms (SQL ${rounds[r]!.sql} ms), scan ${rounds[r]!.scan} ms`,
    );
  }

  // My follows vs a single channel, alternating, through the gateway and in SQL.
  const names = qs.flatMap((q) => (q.meant ? [q.meant] : []));
  const follows: number[] = [];
  const channel: number[] = [];
  const followsSql: number[] = [];
  const pk: number[] = [];
  for (let i = 0; i < 100; i++) {
    const pair = [
      async () =>
        follows.push(
          (await timed(() => getJson(`${neon.url}/api/v1/me/follows?limit=25`, viewer.token)))[0],
        ),
      async () =>
        channel.push(
          (
            await timed(() =>
              getJson(`${neon.url}/api/v1/channels/${names[i % names.length]!}`, viewer.token),
            )
          )[0],
        ),
    ];
    if (i % 2) pair.reverse();
    for (const f of pair) await f();
    followsSql.push((await timed(() => repo.following(viewer.id, 25, null)))[0]);
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

  // Follow then unfollow a rotating channel, as the routes do (outbox rows included).
  let ops = 0;
  const until = performance.now() + FOLLOW_SECONDS * 1000;
  const event = { channel: 'x', channelId: 'x', userId: viewer.id, username: 'x' };
  for (let i = 0; performance.now() < until; i++) {
    const target = `c${(i * 13 + 1) % CHANNELS}`;
    await repo.follow(viewer.id, target, event);
    await repo.unfollow(viewer.id, target, event);
    ops += 2;
  }
  const [gs, ss, cs] = [sorted(gateway), sorted(sql), sorted(scan)];
  const result = {
    searchP50Ms: round(percentile(gs, 50)),
    searchP95Ms: round(percentile(gs, 95)),
    searchSqlP50Ms: round(percentile(ss, 50)),
    searchSqlP95Ms: round(percentile(ss, 95)),
    ilikeP50Ms: round(percentile(cs, 50)),
    ilikeP95Ms: round(percentile(cs, 95)),
    p95Speedup: round(percentile(cs, 95) / percentile(gs, 95)),
    p95SpeedupSql: round(percentile(cs, 95) / percentile(ss, 95)),
    roundMedianSpeedups: rounds.map((r) => round(r.scan / r.search)),
    typoFirstHit: round((100 * meant) / Math.max(1, typos)),
    typoQueries: typos,
    myFollowsP95Ms: round(percentile(sorted(follows), 95)),
    channelP95Ms: round(percentile(sorted(channel), 95)),
    myFollowsVsChannel: round(percentile(sorted(follows), 95) / percentile(sorted(channel), 95)),
    myFollowsSqlP95Ms: round(percentile(sorted(followsSql), 95)),
    pkLookupP95Ms: round(percentile(sorted(pk), 95)),
    myFollowsSqlVsPk: round(percentile(sorted(followsSql), 95) / percentile(sorted(pk), 95)),
    followOpsPerSecond: Math.round(ops / FOLLOW_SECONDS),
  };
  console.log(`\n${name}`);
  for (const [k, v] of Object.entries(result))
    console.log(`  ${k.padEnd(20)} ${Array.isArray(v) ? v.join(' ') : v}`);
  return result;
}

async function run(name: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'neon-bench-channels-'));
  const neon = await startEmbedded({
    LOG_LEVEL: 'warn',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    RTMP_HOST: '127.0.0.1',
    RTMP_PORT: '0',
    GATEWAY_API_RATE_LIMIT: '0',
    DATA_DIR: dataDir,
    ...env,
  });
  try {
    const db = neon.platform.db;
    const [seedMs] = await timed(() => seed(db, CHANNELS, FOLLOWS));
    console.log(`${name}: seeded in ${Math.round(seedMs / 1000)} s`);
    return { seedSeconds: Math.round(seedMs / 1000), ...(await measure(name, neon, db)) };
  } finally {
    await neon.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    cores: cpus().length,
    channels: CHANNELS,
    follows: FOLLOWS,
    queries: QUERIES,
    rounds: ROUNDS,
  };
  if (DATABASE_URL && ENGINES.includes('postgres')) {
    let tdb: TestDatabase | undefined;
    try {
      tdb = await createTestDatabase(DATABASE_URL);
      results.postgres = await run('PostgreSQL', { DATABASE_URL: tdb.url });
    } finally {
      await tdb?.drop();
    }
  } else if (ENGINES.includes('postgres'))
    console.log('PostgreSQL skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL)');
  if (ENGINES.includes('pglite')) results.pglite = await run('PGlite', {});
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `channels-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`\nsaved ${file}`);
}

await main();
