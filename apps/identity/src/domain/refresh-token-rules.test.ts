import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTooCommon, loadCommonPasswords } from './password-policy.js';
import {
  hashRefreshToken,
  looksLikeRefreshToken,
  newRefreshToken,
  openSuccessor,
  sameHash,
  sealSuccessor,
} from './refresh-token.js';

// The refresh token's format and storage, the successor box and the password
// policy at their exact edges: a token one character short or of another
// alphabet is not one; a hash compares equal only to itself; a box opens only
// whole and with its predecessor.

test('a refresh token is exactly 43 base64url characters', () => {
  const ok = `${'A'.repeat(10)}z09_-${'b'.repeat(28)}`;
  assert.equal(ok.length, 43);
  assert.equal(looksLikeRefreshToken(ok), true);
  for (const bad of [
    ok.slice(1),
    `${ok}A`,
    `${ok.slice(1)}+`,
    `${ok.slice(1)}/`,
    `${ok.slice(1)}=`,
    `${ok.slice(1)}.`,
    ` ${ok.slice(1)}`,
    `${ok.slice(2)}\n`,
    '',
  ])
    assert.equal(looksLikeRefreshToken(bad), false, JSON.stringify(bad));
  // Each new token is one, and never the same twice.
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const t = newRefreshToken();
    assert.equal(looksLikeRefreshToken(t), true, t);
    seen.add(t);
  }
  assert.equal(seen.size, 50);
});

test('the stored hash is the SHA-256 of the token in hex', () => {
  const t = newRefreshToken();
  assert.equal(hashRefreshToken(t), createHash('sha256').update(t).digest('hex'));
  assert.equal(
    hashRefreshToken('abc'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});

test('hashes compare equal only byte for byte', () => {
  const h = hashRefreshToken('x');
  assert.equal(sameHash(h, `${h}`), true);
  assert.equal(sameHash(h, hashRefreshToken('y')), false);
  assert.equal(sameHash(h, h.slice(0, -1)), false);
  assert.equal(sameHash(h.slice(0, -1), h), false);
  assert.equal(sameHash(h, ''), false);
  assert.equal(sameHash('', h), false);
  assert.equal(sameHash(h, `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}`), false);
});

test('a successor box: 12 bytes of nonce, 16 of tag, then the sealed token; any change spoils it', () => {
  const predecessor = newRefreshToken();
  const successor = newRefreshToken();
  const box = sealSuccessor(predecessor, successor);
  const raw = Buffer.from(box, 'base64');
  assert.equal(raw.length, 12 + 16 + successor.length);
  assert.notEqual(sealSuccessor(predecessor, successor), box);
  assert.equal(openSuccessor(predecessor, box), successor);
  for (const at of [0, 11, 12, 27, 28, raw.length - 1]) {
    const changed = Buffer.from(raw);
    changed[at] = changed[at]! ^ 1;
    assert.equal(openSuccessor(predecessor, changed.toString('base64')), null, `byte ${at}`);
  }
  assert.equal(openSuccessor(predecessor, raw.subarray(0, 28).toString('base64')), null);
  assert.equal(openSuccessor(predecessor, ''), null);
  // The key is bound to the whole predecessor.
  const other = `${predecessor.slice(0, -1)}${predecessor.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(openSuccessor(other, box), null);
});

test('a box sealed by an earlier release still opens: the key is HKDF-SHA-256 of the predecessor, AES-256-GCM', () => {
  // Written out here as the stored format, so a change to the derivation (which would strand every
  // box in the database at a deploy: a second tab's refresh would count as a replay) fails.
  const predecessor = 'p'.repeat(43);
  const successor = 's'.repeat(43);
  const key = Buffer.from(hkdfSync('sha256', predecessor, '', 'neon refresh successor', 32));
  const iv = Buffer.alloc(12, 7);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  const box = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  assert.equal(openSuccessor(predecessor, box), successor);
  // And what this release seals, the same derivation opens.
  const sealed = Buffer.from(sealSuccessor(predecessor, successor), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  assert.equal(
    Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8'),
    successor,
  );
});

test('the common-password list: one per line, trimmed, lower-cased, blank lines skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neon-pw-'));
  try {
    const file = join(dir, 'list.txt');
    writeFileSync(file, 'Dragon\r\n  monkey  \n\n\r\nSHADOW\nsunshine');
    assert.deepEqual([...loadCommonPasswords(file)].sort(), [
      'dragon',
      'monkey',
      'shadow',
      'sunshine',
    ]);
    const common = loadCommonPasswords(file);
    const account = { username: 'Night_Owl', email: 'Owl@Example.test' };
    assert.equal(isTooCommon(common, 'MONKEY', account), true);
    assert.equal(isTooCommon(common, 'night_owl', account), true);
    assert.equal(isTooCommon(common, 'owl@example.TEST', account), true);
    for (const ok of ['monkey1', 'night_owl!', 'owl@example', '', 'Example.test'])
      assert.equal(isTooCommon(common, ok, account), false, ok);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
