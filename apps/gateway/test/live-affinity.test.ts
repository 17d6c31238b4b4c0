import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { LIVE_HOLDERS_KEY } from '@neon/contracts';
import { createLogger } from '@neon/kit';
import { engines, skipUnless, uniqueName, waitFor } from '@neon/testing';
import { LiveHolderDirectory } from '../src/upstream/live-holders.js';
import { UpstreamPools } from '../src/upstream/pool.js';
import { roundRobinPolicy, type RouteContext } from '../src/upstream/policy.js';

const logger = createLogger({ level: 'silent' });
const live = (path: string, username?: string): RouteContext => ({
  service: 'live',
  method: 'GET',
  path,
  headers: {},
  username,
});

describe('the live replica a request must reach', () => {
  const pools = (affinity: (c: RouteContext) => string | null) =>
    new UpstreamPools(
      { live: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002', 'http://127.0.0.1:9003'] },
      {
        logger,
        policy: roundRobinPolicy(),
        healthIntervalMs: 60_000,
        connectTimeoutMs: 1000,
        affinity,
      },
    );

  test('goes to the holder while it is healthy and untried, else to the policy', async () => {
    const p = pools((c) => (c.path.startsWith('/hls/ada/') ? 'http://127.0.0.1:9002' : null));
    try {
      for (let i = 0; i < 5; i++)
        assert.equal(p.choose(live('/hls/ada/source/index.m3u8'))?.url, 'http://127.0.0.1:9002');
      // Others are balanced.
      const others = new Set(
        Array.from({ length: 6 }, () => p.choose(live('/hls/bob/master.m3u8'))?.url),
      );
      assert.equal(others.size, 3);
      // The holder failed this request: the next attempt goes elsewhere.
      const holder = p.choose(live('/hls/ada/master.m3u8'))!;
      assert.notEqual(p.choose(live('/hls/ada/master.m3u8'), [holder])?.url, holder.url);
      // Ejected: not chosen until a check passes.
      p.markFailed(holder, 'test');
      assert.notEqual(p.choose(live('/hls/ada/master.m3u8'))?.url, holder.url);
    } finally {
      await p.close();
    }
  });

  test('an origin outside the pool is never used', async () => {
    const p = pools(() => 'http://10.9.9.9:8103');
    try {
      const chosen = new Set(Array.from({ length: 6 }, () => p.choose(live('/hls/ada/x'))?.url));
      assert.deepEqual([...chosen].sort(), [
        'http://127.0.0.1:9001',
        'http://127.0.0.1:9002',
        'http://127.0.0.1:9003',
      ]);
    } finally {
      await p.close();
    }
  });
});

const e = engines();

describe(
  'the live holders the gateway reads from Redis',
  { skip: skipUnless(e.redisUrl, 'TEST_REDIS_URL') },
  () => {
    const prefix = `${uniqueName('GWHOLD')}:`;
    let redis: Redis;
    let directory: LiveHolderDirectory;
    const entry = (replica: string, broadcastId = 'b') =>
      JSON.stringify({ replica, broadcastId, until: Date.now() + 10_000 });

    before(async () => {
      redis = new Redis(e.redisUrl!, { keyPrefix: prefix });
      await redis.hset(LIVE_HOLDERS_KEY, 'ada', entry('http://live-1:8103/'));
      await redis.hset(LIVE_HOLDERS_KEY, 'junk', 'not json');
      directory = new LiveHolderDirectory({ redis, logger, refreshMs: 60_000 });
      await directory.start();
    });

    after(async () => {
      await directory.close();
      await redis.del(LIVE_HOLDERS_KEY);
      redis.disconnect();
    });

    test("routes a channel's media, thumbnail and its owner's stream requests, and nothing else", () => {
      const holder = 'http://live-1:8103';
      for (const path of [
        '/hls/ada/master.m3u8',
        '/hls/ada/source/p12.m4s?x=1',
        '/dash/ada/manifest.mpd',
        '/thumbnails/ada.jpg',
        '/thumbnails/ada.jpg?t=5',
      ])
        assert.equal(directory.route(live(path)), holder, path);
      for (const path of ['/api/v1/me/stream', '/api/v1/me/stream/end', '/api/v1/me/stream-key'])
        assert.equal(directory.route(live(path, 'ada')), holder, path);
      for (const [path, user] of [
        ['/api/v1/me/stream', undefined],
        ['/api/v1/me/streams', 'ada'],
        ['/api/v1/channels/ada/stream', 'ada'],
        ['/vod/ada/master.m3u8', undefined],
        ['/hls/ADA/master.m3u8', undefined],
        ['/hls/junk/master.m3u8', undefined],
        ['/hls/nobody/master.m3u8', undefined],
        ['/thumbnails/vod/ada.jpg', undefined],
      ] as const)
        assert.equal(directory.route(live(path, user)), null, path);
      assert.equal(directory.route({ ...live('/hls/ada/master.m3u8'), service: 'chat' }), null);
    });

    test('follows a claim, a move and a release as the replicas announce them', async () => {
      const announce = (channel: string) => redis.publish(`${prefix}${LIVE_HOLDERS_KEY}`, channel);
      await redis.hset(LIVE_HOLDERS_KEY, 'bob', entry('http://live-2:8103'));
      await announce('bob');
      await waitFor(() => directory.holder('bob') === 'http://live-2:8103', { what: 'the claim' });
      await redis.hset(LIVE_HOLDERS_KEY, 'bob', entry('http://live-1:8103'));
      await announce('bob');
      await waitFor(() => directory.holder('bob') === 'http://live-1:8103', { what: 'the move' });
      await redis.hdel(LIVE_HOLDERS_KEY, 'bob');
      await announce('bob');
      await waitFor(() => directory.holder('bob') === null, { what: 'the release' });
    });
  },
);
