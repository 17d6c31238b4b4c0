import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  EVENT_SUBJECT_PATTERN,
  errorStatus,
  eventSchemas,
  routeFor,
  routeTable,
} from '@neon/contracts';

describe('contracts', () => {
  it('lists every error code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const missing = Object.keys(errorStatus).filter((code) => !doc.includes(`\`${code}\``));
    assert.deepEqual(missing, [], 'codes missing from docs/errors.md');
  });

  it('names error codes in SCREAMING_SNAKE with an HTTP error status', () => {
    for (const [code, status] of Object.entries(errorStatus)) {
      assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
      assert.ok(status >= 400 && status <= 599, `${code} -> ${status}`);
    }
  });

  it('names every event <domain>.<entity>.<verb>.v<N>', () => {
    for (const type of Object.keys(eventSchemas)) assert.match(type, EVENT_SUBJECT_PATTERN, type);
  });

  it('routes each public path to the service that owns it', () => {
    assert.equal(routeFor('/api/v1/auth/login'), 'identity');
    assert.equal(routeFor('/api/v1/me'), 'identity');
    assert.equal(routeFor('/api/v1/me/stream-key'), 'live');
    assert.equal(routeFor('/api/v1/channels/alice/videos'), 'live');
    assert.equal(routeFor('/api/v1/channels/alice'), 'channels');
    assert.equal(routeFor('/api/v1/channels/alice/follow'), 'channels');
    assert.equal(routeFor('/api/v1/me/channel'), 'channels');
    assert.equal(routeFor('/api/v1/me/channel/moderators/bob'), 'channels');
    assert.equal(routeFor('/api/v1/me/follows'), 'channels');
    assert.equal(routeFor('/api/v1/categories'), 'channels');
    assert.equal(routeFor('/api/v1/categories/music/streams'), 'channels');
    assert.equal(routeFor('/api/v1/search'), 'channels');
    assert.equal(routeFor('/api/v1/streams'), 'live');
    assert.equal(routeFor('/hls/alice/master.m3u8'), 'live');
    assert.equal(routeFor('/socket/websocket'), 'chat');
    assert.equal(routeFor('/.well-known/jwks.json'), 'identity');
    assert.equal(routeFor('/dashboard'), null);
    assert.equal(
      new Set(routeTable.map(([p]) => p)).size,
      routeTable.length,
      'no duplicate prefixes',
    );
  });
});
