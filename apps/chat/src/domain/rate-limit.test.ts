import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryRateLimiter } from './rate-limit.js';

test('allows the limit per window, then refuses until the oldest hit slides out', () => {
  let now = 1_000_000;
  const rl = new MemoryRateLimiter(() => now);
  for (let i = 0; i < 20; i++) {
    assert.equal(rl.takeSync('u', 20, 30_000), true);
    now += 100;
  }
  assert.equal(rl.takeSync('u', 20, 30_000), false);
  assert.equal(rl.takeSync('other', 20, 30_000), true);
  now = 1_000_000 + 30_000;
  assert.equal(rl.takeSync('u', 20, 30_000), true);
  assert.equal(rl.takeSync('u', 20, 30_000), false);
});
