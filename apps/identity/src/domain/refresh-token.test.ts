import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hashRefreshToken,
  looksLikeRefreshToken,
  newRefreshToken,
  openSuccessor,
  sealSuccessor,
} from './refresh-token.js';

test('refresh tokens are 256-bit base64url and stored only as their SHA-256', () => {
  const token = newRefreshToken();
  assert.ok(looksLikeRefreshToken(token));
  assert.equal(Buffer.from(token, 'base64url').length, 32);
  assert.notEqual(newRefreshToken(), token);
  assert.match(hashRefreshToken(token), /^[0-9a-f]{64}$/);
  assert.ok(!looksLikeRefreshToken(`${token}=`));
});

test('a sealed successor opens only with its predecessor', () => {
  const predecessor = newRefreshToken();
  const successor = newRefreshToken();
  const box = sealSuccessor(predecessor, successor);
  assert.ok(!box.includes(successor));
  assert.equal(openSuccessor(predecessor, box), successor);
  assert.equal(openSuccessor(newRefreshToken(), box), null);
  assert.equal(openSuccessor(predecessor, `${box.slice(0, -4)}AAAA`), null);
});
