import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { ClientHeaders } from '@neon/contracts';
import { engines, skipUnless, uniqueName } from '@neon/testing';
import { memoryTicketStore, redisTicketStore } from '../src/auth/ticket-store.js';
import {
  connectionTokens,
  downstreamResponseHeaders,
  dropNamed,
  isClientAsserted,
  upstreamRequestHeaderList,
  upstreamRequestHeaders,
  type ForwardInfo,
} from '../src/proxy/headers.js';

// What the gateway passes on and what it strips, field by field, without
// HTTP: a client must never assert an identity, a hop-by-hop field or one the
// Connection header names must not travel on, a verified bearer token stays
// at the gateway, and the forwarding fields say who connected. Both ways of
// building the upstream's headers (an object for the Fastify path, a flat
// list for the fast path) must agree.

const info = (o: Partial<ForwardInfo> = {}): ForwardInfo => ({
  requestId: 'req-1',
  peerIp: '10.0.0.2',
  clientIp: '198.51.100.7',
  trustPeer: false,
  proto: 'https',
  identity: { [ClientHeaders.internalToken]: 'secret', [ClientHeaders.id]: 'user-1' },
  ...o,
});

/** The flat list as `name: value` lines, in order. */
const lines = (list: string[]) => {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2) out.push(`${list[i]}: ${list[i + 1]}`);
  return out;
};

/** The object's fields as `name: value` lines, sorted (arrays one line per value). */
const sortedLines = (o: Record<string, string | string[]>) =>
  Object.entries(o)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]))
    .sort();

describe('request headers an upstream receives', () => {
  const attack = {
    host: 'neon.test',
    accept: 'text/html',
    'accept-language': ['en', 'fr'] as unknown as string,
    connection: 'X-Secret, Keep-Alive, ,upgrade',
    'x-secret': 'hop only',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    'proxy-authorization': 'Basic eA==',
    'proxy-authenticate': 'x',
    te: 'trailers',
    trailer: 'x-t',
    'transfer-encoding': 'chunked',
    upgrade: 'websocket',
    'http2-settings': 'AAMAAABkAAQAAP__',
    'x-client-id': 'admin-id',
    'x-client-roles': 'admin',
    'x-client-anything': 'y',
    'x-neon-internal': 'guess',
    'x-forwarded-for': '1.2.3.4',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'evil.test',
    'x-request-id': 'client-chosen',
    'content-length': '5',
    authorization: 'Bearer abc.def.ghi',
    cookie: 'a=b',
  };

  test('hop-by-hop, Connection-named and client-asserted fields are dropped; identity is set last', () => {
    const expected = [
      'accept: text/html',
      'accept-language: en',
      'accept-language: fr',
      'content-length: 5',
      'cookie: a=b',
      'x-forwarded-for: 10.0.0.2',
      'x-client-ip: 198.51.100.7',
      'x-forwarded-proto: https',
      'x-forwarded-host: neon.test',
      'x-request-id: req-1',
      'x-neon-internal: secret',
      'x-client-id: user-1',
    ].sort();
    assert.deepEqual(sortedLines(upstreamRequestHeaders(attack, info())), expected);
    const list = upstreamRequestHeaderList(attack, info(), null);
    assert.deepEqual(lines(list).sort(), expected);
    // The gateway's own fields come after the client's, the identity last.
    assert.deepEqual(lines(list).slice(-7), [
      'x-forwarded-for: 10.0.0.2',
      'x-client-ip: 198.51.100.7',
      'x-forwarded-proto: https',
      'x-forwarded-host: neon.test',
      'x-request-id: req-1',
      'x-neon-internal: secret',
      'x-client-id: user-1',
    ]);
  });

  test('a trusted proxy’s X-Forwarded-For is extended; a client’s own is replaced', () => {
    const h = { 'x-forwarded-for': '203.0.113.1, 10.0.0.9' };
    assert.equal(
      upstreamRequestHeaders(h, info({ trustPeer: true }))['x-forwarded-for'],
      '203.0.113.1, 10.0.0.9, 10.0.0.2',
    );
    assert.equal(upstreamRequestHeaders(h, info())['x-forwarded-for'], '10.0.0.2');
    assert.ok(
      lines(upstreamRequestHeaderList(h, info({ trustPeer: true }), null)).includes(
        'x-forwarded-for: 203.0.113.1, 10.0.0.9, 10.0.0.2',
      ),
    );
    assert.ok(
      lines(upstreamRequestHeaderList(h, info(), null)).includes('x-forwarded-for: 10.0.0.2'),
    );
    // Trusted, but nothing sent: the peer alone.
    assert.equal(
      upstreamRequestHeaders({}, info({ trustPeer: true }))['x-forwarded-for'],
      '10.0.0.2',
    );
    assert.ok(
      lines(upstreamRequestHeaderList({}, info({ trustPeer: true }), null)).includes(
        'x-forwarded-for: 10.0.0.2',
      ),
    );
  });

  test('only a bearer token is kept back; other schemes and a bare scheme pass', () => {
    for (const authorization of ['Bearer abc', 'bearer abc', 'BEARER abc']) {
      assert.equal(upstreamRequestHeaders({ authorization }, info()).authorization, undefined);
      assert.deepEqual(
        lines(upstreamRequestHeaderList({ authorization }, info(), null)).filter((l) =>
          l.startsWith('authorization'),
        ),
        [],
      );
    }
    for (const authorization of ['Basic YTpi', 'Bearer ', 'Bearerabc', 'Token Bearer x']) {
      assert.equal(upstreamRequestHeaders({ authorization }, info()).authorization, authorization);
      assert.ok(
        lines(upstreamRequestHeaderList({ authorization }, info(), null)).includes(
          `authorization: ${authorization}`,
        ),
      );
    }
  });

  test('Connection: keep-alive or close names no field', () => {
    for (const connection of ['keep-alive', 'close']) {
      const h = { connection, 'keep-alive-x': '1', close: 'c' };
      assert.deepEqual(sortedLines(upstreamRequestHeaders(h, info({ identity: {} }))), [
        'close: c',
        'keep-alive-x: 1',
        'x-client-ip: 198.51.100.7',
        'x-forwarded-for: 10.0.0.2',
        'x-forwarded-proto: https',
        'x-request-id: req-1',
      ]);
    }
  });

  test('the flat list: the body’s own length replaces the client’s; no Host keeps X-Forwarded-Host', () => {
    const h = { 'content-length': '999', 'x-forwarded-host': 'edge.test' };
    assert.deepEqual(lines(upstreamRequestHeaderList(h, info({ identity: {} }), 12)), [
      'x-forwarded-for: 10.0.0.2',
      'x-client-ip: 198.51.100.7',
      'x-forwarded-proto: https',
      'x-forwarded-host: edge.test',
      'x-request-id: req-1',
      'content-length: 12',
    ]);
    assert.deepEqual(lines(upstreamRequestHeaderList({}, info({ identity: {} }), null)), [
      'x-forwarded-for: 10.0.0.2',
      'x-client-ip: 198.51.100.7',
      'x-forwarded-proto: https',
      'x-request-id: req-1',
    ]);
  });
});

describe('the small rules', () => {
  test('client-asserted names: x-client-* and the internal token', () => {
    for (const name of ['x-client-id', 'x-client-', 'x-neon-internal'])
      assert.equal(isClientAsserted(name), true, name);
    for (const name of ['x-clientid', 'client-id', 'x-neon-internal-x', 'a-x-client-id'])
      assert.equal(isClientAsserted(name), false, name);
  });

  test('Connection tokens: lower-cased, trimmed, empty ones skipped', () => {
    assert.deepEqual(connectionTokens(' Close ,, X-A,x-b ,'), ['close', 'x-a', 'x-b']);
    assert.deepEqual(connectionTokens(''), []);
  });

  test('dropNamed removes the named pairs in place and keeps the order of the rest', () => {
    const list = ['a', '1', 'b', '2', 'a', '3', 'c', '4', 'b', '5'];
    dropNamed(list, ['a', 'b']);
    assert.deepEqual(list, ['c', '4']);
    const none = ['a', '1', 'c', '2'];
    dropNamed(none, []);
    assert.deepEqual(none, ['a', '1', 'c', '2']);
  });

  test('response headers: hop-by-hop fields and unset values dropped, the rest as sent', () => {
    assert.deepEqual(
      downstreamResponseHeaders({
        'content-type': 'text/plain',
        'set-cookie': ['a=1', 'b=2'],
        connection: 'close',
        'transfer-encoding': 'chunked',
        'keep-alive': 'timeout=5',
        upgrade: 'h2c',
        'x-empty': undefined,
      }),
      { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] },
    );
  });
});

describe('socket tickets', () => {
  test('in memory: each ticket works once, and again only after its lifetime', async (t) => {
    t.mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_000_000 });
    const store = memoryTicketStore();
    try {
      // Off the sweep's 30-second beat, so the last millisecond is the consume rule's alone.
      t.mock.timers.tick(1_000);
      assert.equal(await store.consume('t1', 60), true);
      assert.equal(await store.consume('t1', 60), false);
      assert.equal(await store.consume('t2', 60), true);
      t.mock.timers.tick(59_999);
      assert.equal(await store.consume('t1', 60), false);
      t.mock.timers.tick(1);
      // Expired: nothing it could open is still valid, so the entry is free again.
      assert.equal(await store.consume('t1', 60), true);
      assert.equal(await store.consume('t1', 60), false);
      // The sweep (every 30 s) forgets only expired entries: t1 is still used after two.
      t.mock.timers.tick(30_000);
      t.mock.timers.tick(29_999);
      assert.equal(await store.consume('t1', 60), false);
      t.mock.timers.tick(1);
      assert.equal(await store.consume('t1', 60), true);
    } finally {
      store.close?.();
    }
  });

  const { redisUrl } = engines();
  describe('in Redis', { skip: skipUnless(redisUrl, 'TEST_REDIS_URL') }, () => {
    const redis = new Redis(redisUrl ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
    after(() => redis.quit());
    test('each ticket works once across replicas, and expires with its lifetime', async () => {
      const prefix = uniqueName('ticket');
      const a = redisTicketStore(redis, prefix);
      const b = redisTicketStore(redis, prefix);
      assert.equal(await a.consume('t1', 60), true);
      assert.equal(await b.consume('t1', 60), false);
      assert.equal(await a.consume('t1', 60), false);
      assert.equal(await b.consume('t2', 60), true);
      const ttl = await redis.ttl(`${prefix}:t1`);
      assert.ok(ttl > 50 && ttl <= 60, `ttl ${ttl}`);
      // A lifetime under a second still lasts one (Redis refuses EX 0).
      assert.equal(await a.consume('t3', 0), true);
      assert.equal(await redis.ttl(`${prefix}:t3`), 1);
      // Another prefix is another gateway deployment.
      assert.equal(await redisTicketStore(redis, `${prefix}-x`).consume('t1', 60), true);
      await redis.del(`${prefix}:t1`, `${prefix}:t2`, `${prefix}:t3`, `${prefix}-x:t1`);
    });
  });
});
