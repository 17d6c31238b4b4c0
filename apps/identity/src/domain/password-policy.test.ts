import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTooCommon, loadCommonPasswords } from './password-policy.js';

const common = loadCommonPasswords();
const account = { username: 'night_owl', email: 'owl@example.test' };

test('the shipped list holds the 10,000 most common passwords', () => {
  assert.ok(common.size > 9900 && common.size <= 10_000, `size ${common.size}`);
  assert.ok(common.has('123456'));
  assert.ok(common.has('password'));
});

test('common passwords are refused ignoring case; so is the account name', () => {
  assert.equal(isTooCommon(common, 'PassWord', account), true);
  assert.equal(isTooCommon(common, 'Night_Owl', account), true);
  assert.equal(isTooCommon(common, 'OWL@example.test', account), true);
  assert.equal(isTooCommon(common, 'Correct-horse-battery', account), false);
});
