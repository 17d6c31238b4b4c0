import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScope, redirectUriProblem } from './redirect-uri.js';

test('https and loopback http redirect URIs can be registered', () => {
  for (const ok of [
    'https://app.example/callback',
    'https://app.example/cb?x=1',
    'http://127.0.0.1:5173/callback',
    'http://localhost/cb',
    'http://[::1]:8000/cb',
  ])
    assert.equal(redirectUriProblem(ok), null, ok);
});

test('redirect URIs that could send a code elsewhere are refused', () => {
  for (const bad of [
    'javascript:alert(1)',
    'http://app.example/callback',
    'https://app.example/cb#frag',
    'https://user:pass@app.example/cb',
    'https://*.example/cb',
    'data:text/html,hi',
    '/relative/path',
    'https://app.example/a/../b',
    'HTTPS://APP.EXAMPLE/cb',
    'http://127.0.0.1.evil.example/cb',
  ])
    assert.notEqual(redirectUriProblem(bad), null, bad);
});

test('scope parameters split on spaces, once each', () => {
  assert.deepEqual(parseScope('a b  a'), ['a', 'b']);
  assert.deepEqual(parseScope(undefined), []);
  assert.deepEqual(parseScope(''), []);
});
