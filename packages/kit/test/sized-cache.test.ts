import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SizedCache } from '../src/sized-cache.js';

describe('SizedCache', () => {
  const bytes = (s: string) => s.length;

  it('drops the oldest stored values to stay within its budget', () => {
    const c = new SizedCache<string>(10, bytes);
    c.set('a', 'aaaa');
    c.set('b', 'bbbb');
    assert.deepEqual(c.size, { entries: 2, bytes: 8 });
    c.set('c', 'cccc');
    assert.equal(c.get('a'), undefined, 'the oldest went');
    assert.equal(c.get('b'), 'bbbb');
    assert.equal(c.get('c'), 'cccc');
    assert.deepEqual(c.size, { entries: 2, bytes: 8 });
  });

  it('replaces a key without counting it twice, and refuses what is too large', () => {
    const c = new SizedCache<string>(10, bytes, 5);
    assert.equal(c.set('a', 'aaaa'), true);
    assert.equal(c.set('a', 'aaa'), true);
    assert.deepEqual(c.size, { entries: 1, bytes: 3 });
    assert.equal(c.set('big', 'xxxxxx'), false);
    assert.equal(c.get('big'), undefined);
    assert.equal(c.get('a'), 'aaa', 'a refused value evicts nothing');
  });
});
