import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanBody } from './body.js';

test('trims and strips control characters', () => {
  assert.deepEqual(cleanBody('  hi\u0000 there\u0007 \n'), { ok: true, body: 'hi there' });
  assert.deepEqual(cleanBody('a\tb\nc'), { ok: true, body: 'a b c' });
  assert.deepEqual(cleanBody('evil\u202etxt'), { ok: true, body: 'eviltxt' });
});

test('keeps markup as text', () => {
  assert.deepEqual(cleanBody('<b>x</b>'), { ok: true, body: '<b>x</b>' });
});

test('refuses empty, too long and non-string bodies', () => {
  assert.deepEqual(cleanBody('   \u0001 '), { ok: false, code: 'CHAT_BODY_EMPTY' });
  assert.deepEqual(cleanBody('x'.repeat(501)), { ok: false, code: 'CHAT_BODY_TOO_LONG' });
  assert.deepEqual(cleanBody(42), { ok: false, code: 'CHAT_INVALID_MESSAGE' });
});

test('counts code points, so 500 emoji fit', () => {
  const r = cleanBody('😀'.repeat(500));
  assert.equal(r.ok, true);
  assert.equal(cleanBody('😀'.repeat(501)).ok, false);
});
