import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentKey, isPublished, nextActivation, retiredAt } from './key-schedule.js';

const rules = { rotationMs: 1000, tokenTtlMs: 900, leewayMs: 60 };

test('a fresh deployment gets a key that signs at once, then a published successor', () => {
  assert.equal(nextActivation([], 5000, rules), 5000);
  const one = [{ kid: 'a', activatesAt: 5000 }];
  assert.equal(nextActivation(one, 5000, rules), 6000);
  const two = [...one, { kid: 'b', activatesAt: 6000 }];
  assert.equal(nextActivation(two, 5500, rules), null);
  assert.equal(currentKey(two, 5999)?.kid, 'a');
  assert.equal(currentKey(two, 6000)?.kid, 'b');
});

test('after a long stop the successor is still published ahead of signing', () => {
  const keys = [{ kid: 'a', activatesAt: 0 }];
  const at = nextActivation(keys, 100_000, rules)!;
  assert.ok(at > 100_000);
  assert.equal(at, 100_000 + rules.rotationMs / 2);
});

test('a retired key stays published until its last token expired, plus leeway', () => {
  const keys = [
    { kid: 'a', activatesAt: 0 },
    { kid: 'b', activatesAt: 1000 },
    { kid: 'c', activatesAt: 2000 },
  ];
  assert.equal(retiredAt(keys, 'a'), 1000);
  assert.equal(retiredAt(keys, 'c'), null);
  assert.equal(isPublished(keys, 'a', 1000 + 900 + 59, rules), true);
  assert.equal(isPublished(keys, 'a', 1000 + 900 + 60, rules), false);
  assert.equal(isPublished(keys, 'b', 2500, rules), true);
  assert.equal(isPublished(keys, 'c', 0, rules), true, 'the next key is published before it signs');
});
