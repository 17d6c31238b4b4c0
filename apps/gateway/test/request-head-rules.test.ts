import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Type from 'typebox';
import { createServer, type Server } from '@neon/kit';
import {
  AnswerReader,
  SECRET,
  captureLogger,
  makeKeys,
  mintToken,
  openRaw,
  startGateway,
  type Answer,
  type GatewayHandle,
  type Keys,
} from './harness.js';

/**
 * Heads that two readers could read two ways are refused, and refused at
 * once, on each way in: the front door (a fresh connection) and node's
 * server (a connection the door has handed over).
 */

/** A head the door does not read: everything after it on the connection is node's. */
const HAND_OVER =
  'GET /api/v1/users/handover HTTP/1.1\r\nhost: neon.test\r\ncontent-length: 0\r\n\r\n';

const ways = [
  { name: 'the front door', before: [] as string[] },
  { name: 'node’s server', before: [HAND_OVER] },
];

const code = (a: Answer) => (JSON.parse(a.text) as { code: string }).code;

describe('request heads the gateway refuses', () => {
  let keys: Keys;
  let upstream: Server;
  let gw: GatewayHandle;
  let token: string;

  before(async () => {
    keys = await makeKeys();
    const { logger } = captureLogger();
    upstream = createServer({ name: 'identity', logger, internalSecret: SECRET });
    upstream.get('/.well-known/jwks.json', async () => ({ keys: [keys.publicJwk] }));
    upstream.get('/api/v1/users/:name', async (request) => ({
      name: (request.params as { name: string }).name,
      client: request.client,
    }));
    upstream.post(
      '/api/v1/auth/login',
      {
        schema: {
          body: Type.Object({ login: Type.String(), password: Type.String() }),
        },
      },
      async () => ({ ok: true }),
    );
    const url = await upstream.listen({ host: '127.0.0.1', port: 0 });
    gw = await startGateway({ IDENTITY_URL: url });
    token = await mintToken(keys);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  /** Sends `heads` on one connection and reads every answer until the gateway closes it. */
  async function exchange(heads: string[], ms = 5000): Promise<AnswerReader> {
    const socket = await openRaw(gw.url);
    const reader = new AnswerReader(socket);
    socket.write(heads.join(''));
    await Promise.race([reader.end(), new Promise((r) => setTimeout(r, ms))]);
    socket.destroy();
    return reader;
  }

  const get = (path: string, lines = '') =>
    `GET ${path} HTTP/1.1\r\nhost: neon.test\r\n${lines}\r\n`;

  for (const way of ways) {
    const n = way.before.length;

    test(`two Host or two Authorization fields are a 400, through ${way.name}`, async () => {
      for (const lines of [
        'host: evil.test\r\n',
        `authorization: Bearer ${token}\r\nauthorization: Bearer other\r\n`,
        'origin: http://neon.test\r\norigin: http://evil.test\r\n',
      ]) {
        const r = await exchange([...way.before, get('/api/v1/users/alice', lines)]);
        const a = r.answers[n]!;
        assert.equal(a.status, 400, lines);
        assert.equal(a.headers['content-type'], 'application/problem+json; charset=utf-8');
        assert.equal(code(a), 'BAD_REQUEST');
      }
    });

    test(`bare LF line ends are a 400 at once, through ${way.name}`, async () => {
      const started = performance.now();
      const r = await exchange([
        ...way.before,
        'GET /api/v1/users/alice HTTP/1.1\nhost: neon.test\n\n',
      ]);
      const a = r.answers[n]!;
      assert.equal(a.status, 400);
      assert.equal(code(a), 'BAD_REQUEST');
      assert.ok(r.closed, 'the connection ends');
      // Not the 60 s head timeout.
      assert.ok(performance.now() - started < 4000);
    });

    test(`more than 100 header fields are a 431, never cut, through ${way.name}`, async () => {
      const fields = (count: number) =>
        Array.from({ length: count }, (_, i) => `x-f${i}: ${i}\r\n`).join('');
      // A host, 99 more: 100 in all is fine.
      const fine = await exchange([
        ...way.before,
        get('/api/v1/users/alice', fields(98) + 'connection: close\r\n'),
      ]);
      assert.equal(fine.answers[n]!.status, 200);
      for (const count of [100, 2000]) {
        const r = await exchange([...way.before, get('/api/v1/users/alice', fields(count))]);
        const a = r.answers[n]!;
        assert.equal(a.status, 431, `${count + 1} fields`);
        assert.equal(code(a), 'HEADERS_TOO_LARGE');
      }
    });

    test(`a token signed in the base64 alphabet or padded is a 401, through ${way.name}`, async () => {
      // A signature with both - and _ in it (almost every one has).
      let good = await mintToken(keys);
      while (!/[-_]/.test(good.split('.')[2]!)) good = await mintToken(keys);
      const [h, p, sig] = good.split('.') as [string, string, string];
      const spellings = [
        `${h}.${p}.${sig.replace(/-/g, '+').replace(/_/g, '/')}`,
        `${h}.${p}.${sig}=`,
        `${h}.${p}.${sig}==`,
      ];
      const ok = await exchange([
        ...way.before,
        get('/api/v1/users/alice', `authorization: Bearer ${good}\r\nconnection: close\r\n`),
      ]);
      assert.equal(ok.answers[n]!.status, 200);
      for (const bad of spellings) {
        const r = await exchange([
          ...way.before,
          get('/api/v1/users/alice', `authorization: Bearer ${bad}\r\nconnection: close\r\n`),
        ]);
        const a = r.answers[n]!;
        assert.equal(a.status, 401, bad.slice(-12));
        assert.equal(code(a), 'AUTH_TOKEN_INVALID');
      }
    });

    test(`a method a route does not take is a 405 with Allow, through ${way.name}`, async () => {
      const r = await exchange([
        ...way.before,
        'DELETE /api/v1/users/alice HTTP/1.1\r\nhost: neon.test\r\nconnection: close\r\n\r\n',
      ]);
      const a = r.answers[n]!;
      assert.equal(a.status, 405);
      assert.equal(code(a), 'METHOD_NOT_ALLOWED');
      assert.equal(a.headers.allow, 'GET, HEAD');
    });
  }

  test('PUT on a GET route is a 405 with Allow; a text/plain body on a JSON route a 415', async () => {
    const put = await fetch(`${gw.url}/api/v1/users/alice`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
    assert.equal(((await put.json()) as { code: string }).code, 'METHOD_NOT_ALLOWED');
    const plain = await fetch(`${gw.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"login":"a","password":"b"}',
    });
    assert.equal(plain.status, 415);
    assert.equal(plain.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await plain.json()) as { code: string }).code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a socket upgrade with two Hosts or too many fields is refused before the upgrade', async () => {
    const upgrade = (lines: string) =>
      'GET /socket/websocket HTTP/1.1\r\nhost: neon.test\r\nconnection: upgrade\r\nupgrade: websocket\r\n' +
      `sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n${lines}\r\n`;
    const twoHosts = await exchange([upgrade('host: evil.test\r\n')]);
    assert.equal(twoHosts.answers[0]!.status, 400);
    assert.equal(code(twoHosts.answers[0]!), 'BAD_REQUEST');
    const many = Array.from({ length: 100 }, (_, i) => `x-f${i}: ${i}\r\n`).join('');
    const tooMany = await exchange([upgrade(many)]);
    assert.equal(tooMany.answers[0]!.status, 431);
  });
});
