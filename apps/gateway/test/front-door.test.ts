import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FrontDoor } from '../src/front/front-door.js';
import { readRequestHead, type RequestHead } from '../src/front/request-head.js';
import {
  answers,
  mutator,
  openRaw as open,
  type Answer,
  makeKeys,
  mintToken,
  startGateway,
  startUpstream,
  type GatewayHandle,
  type Keys,
  type Upstream,
} from './harness.js';

const body = (a: Answer) =>
  JSON.parse(a.text) as { url: string; method: string; bodyLength: number };

describe('the front door reads only requests every parser frames alike', () => {
  /** node's own server, as the reference: what it saw on each connection. */
  let reference: Server;
  let port = 0;
  const seen = new Map<number, { method: string; url: string; headers: IncomingHttpHeaders }[]>();

  before(async () => {
    reference = createServer((req, res) => {
      const id = Number(req.headers['x-case']);
      const list = seen.get(id) ?? [];
      list.push({ method: req.method!, url: req.url!, headers: req.headers });
      seen.set(id, list);
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => reference.listen(0, '127.0.0.1', r));
    port = (reference.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => reference.close(() => r())));

  /**
   * What node's server sees of `head` followed at once by a second request:
   * agreeing on where the first request ends means it sees that second one.
   */
  async function nodeSees(
    id: number,
    head: Buffer,
  ): Promise<{ method: string; url: string; headers: IncomingHttpHeaders }[]> {
    const socket = connect({ host: '127.0.0.1', port });
    // Each case's own connection; the marker header says which case a request belongs to.
    const mark = (b: Buffer) =>
      Buffer.from(b.toString('latin1').replace('\r\n', `\r\nx-case: ${id}\r\n`), 'latin1');
    const next = Buffer.from(`GET /next HTTP/1.1\r\nhost: next\r\nx-case: ${id}\r\n\r\n`);
    socket.end(Buffer.concat([mark(head), next]));
    await new Promise<void>((r) => {
      socket.on('data', () => undefined);
      socket.once('close', () => r());
      socket.once('error', () => r());
    });
    return (seen.get(id) ?? []).map((r) => {
      const headers = { ...r.headers };
      delete headers['x-case'];
      return { ...r, headers };
    });
  }

  /** The request as the front door read it, then the next one unless it said Connection: close. */
  const expected = (head: RequestHead) => [
    { method: head.method, url: head.url, headers: head.headers },
    ...(head.keepAlive ? [{ method: 'GET', url: '/next', headers: { host: 'next' } }] : []),
  ];

  const valid = [
    'GET /api/v1/me HTTP/1.1\r\nHost: neon.test\r\nAuthorization: Bearer a.b.c\r\nAccept: */*\r\n\r\n',
    'HEAD /api/v1/users/alice?x=1&y=%20 HTTP/1.1\r\nhost:neon.test\r\nX-Empty:\r\nX-Tab:\tvalue\t \r\n\r\n',
    'DELETE /api/v1/channels/a/bans/b HTTP/1.1\r\nHost: neon.test\r\nConnection: close\r\nUser-Agent: curl/8.0 (x86_64)\r\n\r\n',
  ];

  test('well-formed heads are read exactly as node reads them', async () => {
    let id = 0;
    for (const text of valid) {
      const bytes = Buffer.from(text, 'latin1');
      const head = readRequestHead(bytes);
      assert.ok(head !== null && head !== 'partial', JSON.stringify(text));
      assert.equal(head.end, bytes.length);
      const node = await nodeSees(++id, bytes);
      assert.deepEqual(node, expected(head));
    }
    assert.equal(readRequestHead(Buffer.from(valid[0]!.slice(0, 30))), 'partial');
    const closing = readRequestHead(Buffer.from(valid[2]!));
    assert.ok(closing !== null && closing !== 'partial' && !closing.keepAlive);
  });

  test('anything that could frame differently is left to node', () => {
    const refused = [
      // Bodies, in every spelling: the front door never reads a body.
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\n\r\n',
      // Line ends and bytes parsers disagree on.
      'GET / HTTP/1.1\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: \xe9\r\n\r\n',
      '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
      // Request lines outside the strict form.
      'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.0\r\nHost: a\r\n\r\n',
      'get / HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET /\t HTTP/1.1\r\nHost: a\r\n\r\n',
      // Headers: duplicates, no Host, upgrades, expectations.
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nX: y\r\n\r\n',
      'GET /socket/websocket HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(17 * 1024)}\r\n\r\n`,
    ];
    // Heads that can never end in CRLF CRLF: node refuses them at once, not after the head timeout.
    refused.push(
      'GET / HTTP/1.1\nHost: a\n\n',
      'GET / HTTP/1.1\rHost: a\r\r',
      'GET / HTTP/1.1\r\nHost: a\n',
    );
    // More fields than the gateway takes: node's side answers 431.
    refused.push(
      `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 100 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`,
    );
    for (const text of refused)
      assert.equal(readRequestHead(Buffer.from(text, 'latin1')), null, JSON.stringify(text));
    // A head that never ends is node's to refuse (431) once it is too long.
    assert.equal(
      readRequestHead(Buffer.from(`GET / HTTP/1.1\r\nX: ${'y'.repeat(17 * 1024)}`)),
      null,
    );
  });

  test('mutated heads: whatever the front door accepts, node frames and reads the same', async () => {
    const bytes = [
      '\r',
      '\n',
      '\r\n',
      ' ',
      '\t',
      '\x00',
      '\x7f',
      '\x80',
      '\xff',
      ':',
      ',',
      '"',
      '\\',
    ];
    const lines = [
      'Content-Length: 4',
      'Content-Length: 0',
      'Transfer-Encoding: chunked',
      'Host: evil',
      'Connection: close',
      'Connection: keep-alive, Upgrade',
      'Upgrade: h2c',
      ' folded',
      'X-Forwarded-For: 10.0.0.1',
      'Expect: 100-continue',
      'X:',
      'Cookie: a=b; c=d',
    ];
    // A fixed seed: the same cases every run.
    const { random, mutate } = mutator(0x5eed, lines, bytes);
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const text = mutate(valid[random(valid.length)]!);
      const input = Buffer.from(text, 'latin1');
      const head = readRequestHead(input);
      if (head === null || head === 'partial') continue;
      accepted++;
      const node = await nodeSees(1000 + i, input.subarray(0, head.end));
      assert.deepEqual(node, expected(head), JSON.stringify(text));
    }
    // Enough of them pass the door for the comparison to mean something.
    assert.ok(accepted > 60, `only ${accepted} of 400 mutated heads were read`);
  });
});

describe('the front door in front of the gateway', () => {
  let keys: Keys;
  let identity: Upstream;
  let gw: GatewayHandle;
  let token: string;

  before(async () => {
    keys = await makeKeys();
    identity = await startUpstream('identity', () => [keys.publicJwk]);
    gw = await startGateway({ IDENTITY_URL: identity.url, LIVE_URL: identity.url });
    token = await mintToken(keys);
  });
  after(async () => {
    await gw.close();
    await identity.close();
  });

  const get = (path: string, extra = '') =>
    `GET ${path} HTTP/1.1\r\nHost: neon.test\r\nAuthorization: Bearer ${token}\r\n${extra}\r\n`;

  test('keep-alive and pipelined requests are answered in order on one connection', async () => {
    const socket = await open(gw.url);
    const read = answers(socket, 4, [false, false, true, false]);
    socket.write(get('/api/v1/users/a'));
    // Three more in one write, a HEAD among them.
    setTimeout(() => {
      socket.write(
        get('/api/v1/users/b') +
          get('/api/v1/users/c').replace('GET', 'HEAD') +
          get('/api/v1/users/d'),
      );
    }, 20);
    const { answers: got, closed } = await read;
    socket.destroy();
    assert.equal(closed, false);
    assert.deepEqual(
      got.map((a) => a.status),
      [200, 200, 200, 200],
    );
    assert.equal(body(got[0]!).url, '/api/v1/users/a');
    assert.equal(body(got[1]!).url, '/api/v1/users/b');
    assert.equal(got[2]!.text, '');
    assert.ok(Number(got[2]!.headers['content-length']) > 0, 'HEAD keeps the length');
    assert.equal(body(got[3]!).url, '/api/v1/users/d');
    for (const a of got) {
      assert.equal(a.headers.connection, 'keep-alive');
      assert.equal(a.headers['x-content-type-options'], 'nosniff');
      assert.ok(a.headers['x-request-id']);
      assert.ok(a.headers.date);
    }
  });

  test('a request split across writes is answered once it is whole', async () => {
    const socket = await open(gw.url);
    const read = answers(socket, 1);
    const text = get('/api/v1/users/split');
    socket.write(text.slice(0, 25));
    await new Promise((r) => setTimeout(r, 30));
    socket.write(text.slice(25));
    const { answers: got } = await read;
    socket.destroy();
    assert.equal(got[0]!.status, 200);
    assert.equal(body(got[0]!).url, '/api/v1/users/split');
  });

  test('a request with a body hands the connection to node, which answers it and what follows', async () => {
    const socket = await open(gw.url);
    const read = answers(socket, 3);
    const post =
      `POST /api/v1/users/posted HTTP/1.1\r\nHost: neon.test\r\nAuthorization: Bearer ${token}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":"bcd"}';
    socket.write(get('/api/v1/users/first') + post + get('/api/v1/users/after'));
    const { answers: got } = await read;
    socket.destroy();
    assert.deepEqual(
      got.map((a) => [a.status, body(a).method, body(a).url, body(a).bodyLength]),
      [
        [200, 'GET', '/api/v1/users/first', 0],
        [200, 'POST', '/api/v1/users/posted', 11],
        [200, 'GET', '/api/v1/users/after', 0],
      ],
    );
  });

  test('a smuggling attempt is refused by node with 400 and nothing hidden reaches a service', async () => {
    const before = identity.seen.length;
    const socket = await open(gw.url);
    const read = answers(socket, 3);
    socket.write(
      get('/api/v1/users/ok') +
        'GET /api/v1/users/outer HTTP/1.1\r\nHost: neon.test\r\nContent-Length: 44\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/v1/users HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const { answers: got, closed } = await read;
    assert.equal(got[0]!.status, 200);
    assert.equal(got[1]!.status, 400);
    assert.equal(got.length, 2);
    assert.ok(closed, 'node closes a connection it cannot frame');
    const urls = identity.seen.slice(before).map((s) => s.url);
    assert.deepEqual(urls, ['/api/v1/users/ok']);
    // And the gateway goes on serving.
    const res = await fetch(`${gw.url}/api/v1/users/still`);
    assert.equal(res.status, 200);
  });

  test('Connection: close is honoured; problems are answered by the door too', async () => {
    const socket = await open(gw.url);
    const read = answers(socket, 2);
    socket.write(
      'GET /api/v1/me HTTP/1.1\r\nHost: neon.test\r\nAuthorization: Bearer not.a.token\r\n\r\n' +
        get('/api/v1/users/last', 'Connection: close\r\n'),
    );
    const { answers: got } = await read;
    assert.equal(got[0]!.status, 401);
    assert.equal(got[0]!.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(got[0]!.headers['www-authenticate'], 'Bearer error="invalid_token"');
    assert.equal(got[1]!.status, 200);
    assert.equal(got[1]!.headers.connection, 'close');
    await new Promise<void>((r) => (socket.closed ? r() : socket.once('close', () => r())));
  });

  test('a streamed answer is framed chunked and flows before the upstream ends it', async () => {
    const socket = await open(gw.url);
    let seen = '';
    const first = new Promise<void>((resolve) =>
      socket.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('data: first')) resolve();
      }),
    );
    socket.write(get('/api/v1/streams/live-feed'));
    await first;
    assert.match(seen, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(seen, /transfer-encoding: chunked\r\n/);
    identity.releaseStream();
    await new Promise<void>((r) => {
      const check = () => (seen.includes('0\r\n\r\n') ? r() : setTimeout(check, 10));
      check();
    });
    assert.match(seen, /data: last/);
    socket.destroy();
  });

  test('closing the gateway ends idle door connections instead of waiting for them', async () => {
    const upstream = await startUpstream('identity', () => [keys.publicJwk]);
    const own = await startGateway({ IDENTITY_URL: upstream.url });
    const socket = await open(own.url);
    const read = answers(socket, 1);
    socket.write(get('/api/v1/users/idle'));
    assert.equal((await read).answers[0]!.status, 200);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const started = performance.now();
    await own.close();
    await closed;
    // The keep-alive timeout is 72 s: closing must not wait for it.
    assert.ok(performance.now() - started < 5000);
    await upstream.close();
  });
});

describe('the front door’s own limits', () => {
  let server: Server;
  let url = '';
  /** Requests the door's handler was given, by target. */
  const handled: string[] = [];
  /** Requests node's server answered instead. */
  const toNode: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      toNode.push(req.url!);
      res.end('node');
    });
    // Short, so the test can outwait it; node requires requestTimeout >= headersTimeout.
    server.headersTimeout = 300;
    server.requestTimeout = 300;
    new FrontDoor(server, {
      handle(req, res) {
        handled.push(req.url);
        res.writeHead(200, ['content-type', 'text/plain', 'content-length', '4']);
        res.end(Buffer.from('door'));
        return true;
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('a head still arriving after the headers timeout gets 408 and the connection ends', async () => {
    const socket = await open(url);
    const read = answers(socket, 1);
    socket.write('GET /slow HTTP/1.1\r\nHost: neon.test\r\n');
    await new Promise((resolve) => setTimeout(resolve, 450));
    socket.write('X-Later: 1\r\n');
    socket.write('\r\n');
    const { answers: got } = await read;
    assert.equal(got[0]?.status, 408);
    assert.equal(got[0]?.headers.connection, 'close');
    const closed = await new Promise<boolean>((resolve) => {
      if (socket.readableEnded) resolve(true);
      socket.once('end', () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    assert.ok(closed, 'the door ended the connection');
    assert.ok(!handled.includes('/slow') && !toNode.includes('/slow'));
    socket.destroy();
  });

  test('a client that falls silent mid-head gets 408 once the headers timeout passes', async () => {
    const socket = await open(url);
    const read = answers(socket, 1);
    const sent = performance.now();
    socket.write('GET /silent HTTP/1.1\r\nHost: neon.test\r\n');
    const { answers: got } = await read;
    assert.equal(got[0]?.status, 408);
    assert.ok(performance.now() - sent >= 250, 'not before the timeout');
    assert.ok(!handled.includes('/silent') && !toNode.includes('/silent'));
    socket.destroy();
  });

  test('a head completed within the timeout is answered', async () => {
    const socket = await open(url);
    const read = answers(socket, 1);
    socket.write('GET /split HTTP/1.1\r\nHost: neon.test\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write('\r\n');
    const { answers: got } = await read;
    assert.equal(got[0]?.status, 200);
    assert.equal(got[0]?.text, 'door');
    socket.destroy();
  });

  test('after Connection: close, what the client still sends is not read as a request', async () => {
    // Half-open, as a client that keeps writing after the server's FIN would be.
    const socket = await open(url, true);
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    let bytes = '';
    socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
    socket.write('GET /last HTTP/1.1\r\nHost: neon.test\r\nConnection: close\r\n\r\n');
    await ended;
    socket.write('GET /after-close HTTP/1.1\r\nHost: neon.test\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(bytes.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer only');
    assert.match(bytes, /connection: close/i);
    assert.ok(handled.includes('/last'));
    assert.ok(!handled.includes('/after-close') && !toNode.includes('/after-close'));
    socket.destroy();
  });
});
