import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCache, type VerifiedToken } from '../src/auth/verifier.js';

const NOW = 1_800_000_000;

function verified(sub: string, exp = NOW + 900): VerifiedToken {
  return {
    sub,
    username: sub,
    roles: ['user'],
    jti: null,
    sid: null,
    sua: null,
    iat: exp - 900,
    exp,
    aud: 'neon-api',
    clientId: null,
    scope: null,
  };
}

/** A token-shaped string: `body` in front of a signature ending in `tail`. */
function token(body: string, tail: string): string {
  return `eyJhbGciOiJSUzI1NiJ9.${body}.${'s'.repeat(300)}${tail}`;
}

const TAIL = 'A'.repeat(43);

test('a cached token is found by the same text, not by another string', () => {
  const cache = new TokenCache(10, 60);
  const t = token('alice', TAIL);
  cache.set(t, verified('alice'));
  // A new string with the same characters, as the next request's header gives.
  assert.equal(cache.get(`${t.slice(0, 10)}${t.slice(10)}`, NOW)?.sub, 'alice');
  assert.equal(cache.get(token('bob', 'B'.repeat(43)), NOW), undefined);
});

test('a token sharing a cached token’s signature tail is a miss, never that user', () => {
  const cache = new TokenCache(10, 60);
  cache.set(token('alice', TAIL), verified('alice'));
  // Forged: everything but the last 256 bits of the signature differs.
  assert.equal(cache.get(token('mallory', TAIL), NOW), undefined);
  assert.equal(cache.get(`x${token('alice', TAIL)}`, NOW), undefined);
  // Still cached for its owner.
  assert.equal(cache.get(token('alice', TAIL), NOW)?.sub, 'alice');
});

test('an expired entry is gone once past the leeway', () => {
  const cache = new TokenCache(10, 60);
  const t = token('alice', TAIL);
  cache.set(t, verified('alice', NOW));
  assert.equal(cache.get(t, NOW + 59)?.sub, 'alice');
  assert.equal(cache.get(t, NOW + 60), undefined);
  assert.equal(cache.size, 0);
});

test('a full cache drops its oldest entry; capacity 0 keeps nothing', () => {
  const cache = new TokenCache(2, 60);
  const tokens = ['a', 'b', 'c'].map((n) => token(n, n.repeat(43)));
  for (const t of tokens) cache.set(t, verified(t));
  assert.equal(cache.size, 2);
  assert.equal(cache.get(tokens[0]!, NOW), undefined);
  assert.ok(cache.get(tokens[2]!, NOW));
  const none = new TokenCache(0, 60);
  none.set(tokens[0]!, verified('a'));
  assert.equal(none.get(tokens[0]!, NOW), undefined);
});
