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
    // The URL parser adds the root path's slash: the string without it is still the one compared.
    'https://app.example',
    'http://localhost',
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

/*
 * The developer reads why in the console's error (an empty reason would even
 * let the URI through: the console takes "" for no problem), so each refusal
 * names its own rule, the first one broken.
 */
test('each refused redirect URI says which rule it breaks', () => {
  const https = 'must be https (plain http only to 127.0.0.1, [::1] or localhost)';
  const cases: [string, string][] = [
    ['callback', 'is not an absolute URL'],
    ['/relative/path', 'is not an absolute URL'],
    ['javascript:alert(1)', 'must be https'],
    ['ftp://app.example/cb', 'must be https'],
    ['data:text/html,hi', 'must be https'],
    ['http://app.example/callback', https],
    ['http://127.0.0.1.evil.example/cb', https],
    ['http://localhost.evil.example/cb', https],
    ['https://app.example/cb#frag', 'must not have a fragment'],
    // An empty fragment is no fragment to the parser, but the string still has one.
    ['https://app.example/cb?x=1#', 'must not have a fragment'],
    ['https://user@app.example/cb', 'must not carry user info'],
    ['https://:pass@app.example/cb', 'must not carry user info'],
    ['https://*.example/cb', 'must not contain a wildcard'],
    ['https://app.example/cb?next=*', 'must not contain a wildcard'],
    ['https://app.example/a/../b', 'is not in normal form'],
    ['HTTPS://APP.EXAMPLE/cb', 'is not in normal form'],
    ['http://LOCALHOST/cb', 'is not in normal form'],
    ['https://app.example/cb?a b', 'is not in normal form'],
  ];
  // What the URL parser leaves as it is in a query, yet a browser or a server may read otherwise.
  for (const c of ['^', '`', '{', '|', '}', '\\'])
    cases.push([`https://app.example/cb?x=${c}`, 'has characters that must be escaped']);
  cases.push(['https://app.example/a|b', 'has characters that must be escaped']);
  for (const [uri, problem] of cases) assert.equal(redirectUriProblem(uri), problem, uri);
});

test('scope parameters split on spaces, once each', () => {
  assert.deepEqual(parseScope('a b  a'), ['a', 'b']);
  assert.deepEqual(parseScope(' a'), ['a']);
  assert.deepEqual(parseScope(undefined), []);
  assert.deepEqual(parseScope(''), []);
});
