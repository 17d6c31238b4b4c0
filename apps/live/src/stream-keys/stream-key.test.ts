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
  });
});
