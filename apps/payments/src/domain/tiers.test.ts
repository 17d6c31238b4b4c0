import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TIER_PRICES, isTier, splitRevenue } from './tiers.js';

describe('tiers and revenue split', () => {
  it('prices the three tiers as Twitch does', () => {
    assert.deepEqual(TIER_PRICES, { tier1: 499, tier2: 999, tier3: 2499 });
    assert.ok(isTier('tier2'));
    assert.ok(!isTier('tier4'));
    assert.ok(!isTier('toString'));
  });

  it('splits to the cent, the streamer getting the odd one, parts adding up', () => {
    assert.deepEqual(splitRevenue(499, 5000), { platform: 249, streamer: 250 });
    assert.deepEqual(splitRevenue(2499, 3000), { platform: 749, streamer: 1750 });
    assert.deepEqual(splitRevenue(999, 0), { platform: 0, streamer: 999 });
    assert.deepEqual(splitRevenue(999, 10_000), { platform: 999, streamer: 0 });
    assert.deepEqual(splitRevenue(-499, 5000), { platform: -249, streamer: -250 });
    for (let a = 0; a < 3000; a += 7) {
      const s = splitRevenue(a, 5000);
      assert.equal(s.platform + s.streamer, a);
    }
  });

  it('refuses fractions and shares out of range', () => {
    assert.throws(() => splitRevenue(4.99, 5000), RangeError);
    assert.throws(() => splitRevenue(499, 10_001), RangeError);
    assert.throws(() => splitRevenue(499, -1), RangeError);
    assert.throws(() => splitRevenue(499, 12.5), RangeError);
  });
});
