import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  KeySealer,
  generateStreamKey,
  hashStreamKey,
  looksLikeStreamKey,
  sameHash,
} from './stream-key.js';

describe('stream keys', () => {
  it('are 256 random bits behind a recognisable prefix, never twice the same', () => {
    const keys = new Set(Array.from({ length: 1000 }, generateStreamKey));
    assert.equal(keys.size, 1000);
    for (const k of keys) assert.ok(looksLikeStreamKey(k), k);
  });

  it('refuses anything shaped otherwise before any lookup', () => {
    for (const bad of [
      '',
      'live_',
      'live_short',
      `${generateStreamKey()}x`,
      `x${generateStreamKey()}`,
      'x'.repeat(48),
      'live_../../etc/passwd_aaaaaaaaaaaaaaaaaaaaaaaaaaa',
    ])
      assert.equal(looksLikeStreamKey(bad), false, bad);
  });

  it('hash to 32 bytes, compared in constant time', () => {
    const k = generateStreamKey();
    assert.equal(hashStreamKey(k).length, 32);
    assert.ok(sameHash(hashStreamKey(k), hashStreamKey(k)));
    assert.equal(sameHash(hashStreamKey(k), hashStreamKey(generateStreamKey())), false);
    assert.equal(sameHash(hashStreamKey(k), Buffer.alloc(3)), false);
  });

  it('match only byte for byte: no prefix, no empty hash, no extra byte, no bit off', () => {
    const stored = hashStreamKey(generateStreamKey());
    const copy = Buffer.from(stored);
    assert.equal(sameHash(stored, copy), true);
    const near: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['first byte', stored.subarray(0, 1)],
      ['first half', stored.subarray(0, 16)],
      ['all but the last byte', stored.subarray(0, 31)],
      ['one byte longer', Buffer.concat([stored, Buffer.of(0)])],
      ['twice as long', Buffer.concat([stored, stored])],
      ['same length, all zero', Buffer.alloc(32)],
      ['same length, another key', hashStreamKey(generateStreamKey())],
    ];
    for (const bit of [0, 7, 8 * 16 + 3, 8 * 31 + 7]) {
      const flipped = Buffer.from(stored);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      near.push([`bit ${bit} flipped`, flipped]);
    }
    for (const [what, other] of near) {
      assert.equal(sameHash(stored, other), false, `stored vs ${what}`);
      assert.equal(sameHash(other, stored), false, `${what} vs stored`);
    }
    // Equal content at another offset of a larger buffer is still equal: only the bytes count.
    const framed = Buffer.concat([Buffer.of(1, 2), stored, Buffer.of(3)]).subarray(2, 34);
    assert.equal(sameHash(stored, framed), true);
  });

  it('seal and open with the same secret only; tampering is detected', () => {
    const sealer = new KeySealer('secret one');
    const k = generateStreamKey();
    const sealed = sealer.seal(k);
    assert.ok(!sealed.includes(k.slice(5)));
    assert.notEqual(sealer.seal(k), sealed, 'a fresh IV each time');
    assert.equal(sealer.open(sealed), k);
    assert.equal(new KeySealer('secret two').open(sealed), null);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    assert.equal(sealer.open(parts.join('.')), null);
    assert.equal(sealer.open('garbage'), null);
    // Each part missing, or another version, is refused rather than half-read.
    const [, iv, tag, body] = sealed.split('.');
    for (const bad of [
      ['v2', iv, tag, body],
      ['v1', '', tag, body],
      ['v1', iv, '', body],
      ['v1', iv, tag],
    ])
      assert.equal(sealer.open(bad.join('.')), null, bad.join('.'));
  });
});
