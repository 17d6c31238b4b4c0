import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { LIVE_HOLDERS_KEY, parseLiveHolder } from '@neon/contracts';
import { createLogger } from '@neon/kit';
import { engines, skipUnless, uniqueName, waitFor } from '@neon/testing';
import { RedisHolderRegistry } from '../src/broadcasts/holders.js';

const e = engines();

describe(
  'which live replica holds a channel (Redis)',
  { skip: skipUnless(e.redisUrl, 'TEST_REDIS_URL') },
  () => {
    const prefix = `${uniqueName('HOLD')}:`;
    let redis: Redis;
    let listener: Redis;
    const announced: string[] = [];
    const registries: RedisHolderRegistry[] = [];
    const lost: { replica: string; channel: string }[] = [];
    const logger = createLogger({ level: 'silent' });

    function replica(self: string, leaseMs = 3000): RedisHolderRegistry {
      const r = new RedisHolderRegistry({
        redis,
        self,
        leaseMs,
        logger,
        onLost: (channel) => lost.push({ replica: self, channel }),
      });
      registries.push(r);
      return r;
    }
    const entry = async (channel: string) =>
      parseLiveHolder(await redis.hget(LIVE_HOLDERS_KEY, channel));

    before(async () => {
      redis = new Redis(e.redisUrl!, { keyPrefix: prefix });
      listener = new Redis(e.redisUrl!);
      listener.on('message', (_topic: string, channel: string) => announced.push(channel));
      await listener.subscribe(`${prefix}${LIVE_HOLDERS_KEY}`);
    });

    after(async () => {
      for (const r of registries) await r.close();
      await redis.del(LIVE_HOLDERS_KEY);
      redis.disconnect();
      listener.disconnect();
    });

    it('gives a channel to one replica at a time, and to another once released', async () => {
      const a = replica('http://live-a:8103');
      const b = replica('http://live-b:8103');
      assert.equal(await a.claim('ada', 'b1'), true);
      assert.equal(await b.claim('ada', 'b2'), false, 'fenced while A holds it');
      assert.equal(await a.claim('ada', 'b1'), true, "a replica's own claim stands");
      const held = await entry('ada');
      assert.equal(held?.replica, 'http://live-a:8103');
      assert.equal(held?.broadcastId, 'b1');
      // Two claims at once on two replicas: exactly one wins.
      const both = await Promise.all([a.claim('grace', 'g1'), b.claim('grace', 'g2')]);
      assert.equal(both.filter(Boolean).length, 1);

      b.release('ada'); // not B's: nothing happens
      await waitFor(async () => (await entry('ada')) !== null, { what: 'the entry to stay' });
      a.release('ada');
      await waitFor(async () => (await entry('ada')) === null, { what: "A's entry to go" });
      assert.equal(await b.claim('ada', 'b3'), true);
      await waitFor(() => announced.filter((c) => c === 'ada').length >= 3, {
        what: 'each claim and release announced',
      });
    });

    it('lets another replica take a channel whose lease ran out, or whose entry is unreadable', async () => {
      const b = replica('http://live-b:8103');
      await redis.hset(
        LIVE_HOLDERS_KEY,
        'dead',
        JSON.stringify({ replica: 'http://live-gone:8103', broadcastId: 'x', until: 1 }),
      );
      assert.equal(await b.claim('dead', 'd1'), true);
      await redis.hset(LIVE_HOLDERS_KEY, 'junk', 'not json');
      assert.equal(await b.claim('junk', 'j1'), true);
      assert.equal((await entry('junk'))?.replica, 'http://live-b:8103');
    });

    it('renews its leases, and hands back a channel it finds taken', async () => {
      const a = replica('http://live-c:8103', 1000);
      assert.equal(await a.claim('kept', 'k1'), true);
      assert.equal(await a.claim('taken', 't1'), true);
      const first = (await entry('kept'))!.until;
      await waitFor(async () => (await entry('kept'))!.until > first, {
        timeoutMs: 3000,
        what: 'the lease renewed',
      });
      // Another replica claimed it while this one could not renew (as after a partition).
      await redis.hset(
        LIVE_HOLDERS_KEY,
        'taken',
        JSON.stringify({
          replica: 'http://live-d:8103',
          broadcastId: 't2',
          until: Date.now() + 60_000,
        }),
      );
      await waitFor(
        () => lost.some((l) => l.replica === 'http://live-c:8103' && l.channel === 'taken'),
        { timeoutMs: 3000, what: 'the loss noticed' },
      );
      a.release('taken');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(
        (await entry('taken'))?.replica,
        'http://live-d:8103',
        "the new holder's entry stays",
      );
      assert.ok(!lost.some((l) => l.channel === 'kept'));
    });
  },
);
