import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { engines, skipUnless, uniqueName } from '@neon/testing';
import {
  MemoryViewerCounter,
  RedisViewerCounter,
  playerIdentity,
  type ViewerCounter,
} from '../src/viewers/viewer-counter.js';

describe('player identity', () => {
  it('uses the ?v= player id when it is one, else a hash of IP and User-Agent', () => {
    assert.equal(playerIdentity('abc-123', '1.2.3.4', 'ua'), 'v:abc-123');
    const a = playerIdentity(undefined, '1.2.3.4', 'Firefox');
    assert.match(a, /^h:/);
    assert.ok(!a.includes('1.2.3.4'));
    assert.equal(playerIdentity('bad id!', '1.2.3.4', 'Firefox'), a);
    assert.notEqual(playerIdentity(undefined, '1.2.3.4', 'Chrome'), a);
  });
});

const { redisUrl } = engines();
const WINDOW = 30_000;

function counterSuite(
  name: string,
  skip: string | false,
  open: () => Promise<{ counter: ViewerCounter; close(): Promise<void> }>,
) {
  describe(`viewer counter (${name})`, { skip }, () => {
    let c: { counter: ViewerCounter; close(): Promise<void> };
    before(async () => (c = await open()));
    after(() => c.close());

    it('counts distinct players seen within the window, per channel', async () => {
      const t = 1_800_000_000_000;
      await c.counter.touch('alice', 'v:1', t);
      await c.counter.touch('alice', 'v:2', t + 1000);
      await c.counter.touch('alice', 'v:1', t + 2000);
      await c.counter.touch('bob', 'v:1', t);
      assert.equal(await c.counter.count('alice', t + 2000), 2);
      assert.equal(await c.counter.count('bob', t + 2000), 1);
      assert.equal(await c.counter.count('carol', t + 2000), 0);
      // v:2 was last seen at t+1000: gone once the window has passed since.
      assert.equal(await c.counter.count('alice', t + 1000 + WINDOW), 1);
      assert.equal(await c.counter.count('alice', t + 2000 + WINDOW), 0);
      await c.counter.forget('bob');
      assert.equal(await c.counter.count('bob', t + 2000), 0);
    });
  });
}

counterSuite('memory', false, async () => ({
  counter: new MemoryViewerCounter(WINDOW),
  close: async () => {},
}));
counterSuite('redis', skipUnless(redisUrl, 'TEST_REDIS_URL'), async () => {
  const prefix = `${uniqueName('viewers')}:`;
  const redis = new Redis(redisUrl!);
  return {
    counter: new RedisViewerCounter(redis, WINDOW, prefix),
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
});
