import { test, describe, after, before } from 'node:test';
import { request as httpRequest } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Http1Pool, type ExchangeHandler, type UpstreamError } from '../src/upstream/http1.js';
import { mutator, startGateway, type GatewayHandle } from './harness.js';

/**
 * A TCP server that answers each request head with bytes a test chooses, so
 * every framing an upstream may use (and a few it must not) is exercised
 * against the fast path's client over real sockets.
 */
interface Scripted {
  port: number;
  connections: number;
  heads: string[];
  close(): Promise<void>;
}

type Answer = (socket: Socket, head: string) => void;

async function scripted(answer: Answer): Promise<Scripted> {
  const sockets = new Set<Socket>();
  const state = { connections: 0, heads: [] as string[] };
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        state.heads.push(head);
        answer(socket, head);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const scripted: Scripted = {
    port,
    get connections() {
      return state.connections;
    },
    heads: state.heads,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  // A failed assertion skips a test's own close: the file must still end.
  opened.push(scripted);
  return scripted;
}
const opened: Scripted[] = [];
after(() => Promise.all(opened.map((s) => s.close())));

interface Result {
  status: number;
  headers: string[];
  body: string;
  error: UpstreamError | null;
}

function call(
  pool: Http1Pool,
  path = '/x',
  options: { head?: boolean; timeoutMs?: number; pauseFirst?: boolean } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const result: Result = { status: 0, headers: [], body: '', error: null };
    let paused = options.pauseFirst ?? false;
    const handler: ExchangeHandler = {
      onHead(status, headers) {
        result.status = status;
        result.headers = headers;
      },
      onData(chunk) {
        result.body += chunk.toString('latin1');
        if (paused) {
          paused = false;
          // Backpressure: nothing more arrives until resumed.
          setTimeout(() => exchange.resume(), 20);
          return false;
        }
        return true;
      },
      onEnd: () => resolve(result),
      onError(err) {
        result.error = err;
        resolve(result);
      },
    };
    const exchange = pool.request(
      `${options.head ? 'HEAD' : 'GET'} ${path} HTTP/1.1\r\nhost: t\r\n\r\n`,
      handler,
      options.head ?? false,
      options.timeoutMs ?? 2000,
    );
  });
}

const pools: Http1Pool[] = [];
function poolFor(port: number, idleTimeoutMs = 4000): Http1Pool {
  const p = new Http1Pool('127.0.0.1', port, { maxIdle: 8, idleTimeoutMs });
  pools.push(p);
  return p;
}
after(() => {
  for (const p of pools) p.close();
});

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('the gateway upstream client (HTTP/1.1)', () => {
  test('a Content-Length answer, and the connection is kept for the next request', async () => {
    const up = await scripted((s, head) => s.write(ok(`you asked ${head.split(' ')[1]}`)));
    const pool = poolFor(up.port);
    const a = await call(pool, '/a');
    const b = await call(pool, '/b');
    assert.equal(a.status, 200);
    assert.equal(a.body, 'you asked /a');
    assert.equal(b.body, 'you asked /b');
    assert.deepEqual(a.headers.slice(0, 2), ['content-type', 'text/plain']);
    assert.equal(up.connections, 1);
    await up.close();
  });

  test('a chunked answer arriving a byte at a time is de-chunked, trailers dropped', async () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;ext=1\r\nhello\r\n1\r\n \r\nb\r\nworld, once\r\n0\r\nx-trailer: t\r\n\r\n';
    const up = await scripted((s) => {
      let i = 0;
      const tick = () => {
        if (i < wire.length) s.write(wire[i++]!, () => setImmediate(tick));
      };
      tick();
    });
    const pool = poolFor(up.port);
    const r = await call(pool);
    assert.equal(r.error, null);
    assert.equal(r.body, 'hello world, once');
    assert.ok(!r.headers.includes('transfer-encoding'), 'framing is the proxy’s own business');
    // Reused: the answer ended exactly where its last chunk said.
    assert.equal((await call(pool)).body, 'hello world, once');
    assert.equal(up.connections, 1);
    await up.close();
  });

  test('interim 1xx answers are skipped; the real answer follows', async () => {
    const up = await scripted((s) =>
      s.write(
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' + ok('final'),
      ),
    );
    const r = await call(poolFor(up.port));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'final');
    await up.close();
  });

  test('Connection: close and HTTP/1.0 answers are not reused; a length-less body ends at close', async () => {
    const up = await scripted((s, head) => {
      if (head.includes('/close')) s.write(ok('bye', 'connection: close\r\n'));
      else s.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    });
    const pool = poolFor(up.port);
    assert.equal((await call(pool, '/close')).body, 'bye');
    const r = await call(pool, '/until-close');
    assert.equal(r.error, null);
    assert.equal(r.body, 'until the end');
    assert.equal(up.connections, 2);
    await up.close();
  });

  test('HEAD, 204 and 304 answers have no body whatever their headers say', async () => {
    const up = await scripted((s, head) => {
      if (head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
      else if (head.includes('/204')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
      else s.write('HTTP/1.1 304 Not Modified\r\netag: "a"\r\n\r\n');
    });
    const pool = poolFor(up.port);
    const h = await call(pool, '/h', { head: true });
    assert.equal(h.status, 200);
    assert.equal(h.body, '');
    assert.equal((await call(pool, '/204')).status, 204);
    assert.equal((await call(pool, '/304')).status, 304);
    assert.equal(up.connections, 1);
    await up.close();
  });

  test('body pieces a handler keeps stay intact while later reads arrive, on two connections at once', async () => {
    // Every byte differs from its neighbours, so a piece overwritten by a later read shows.
    const body = (seed: number) =>
      Buffer.from(Array.from({ length: 200_000 }, (_, i) => 97 + ((i * 7 + seed) % 26)));
    const up = await scripted((s, head) => {
      const b = body(head.includes('/one') ? 1 : 2);
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${b.length}\r\n\r\n`);
      let at = 0;
      const tick = () => {
        if (at < b.length) s.write(b.subarray(at, (at += 9000)), () => setImmediate(tick));
      };
      tick();
    });
    const pool = poolFor(up.port);
    const keep = (path: string) =>
      new Promise<Buffer>((resolve, reject) => {
        const pieces: Buffer[] = [];
        pool.request(
          `GET ${path} HTTP/1.1\r\nhost: t\r\n\r\n`,
          {
            onHead() {},
            onData(chunk) {
              pieces.push(chunk);
              return true;
            },
            onEnd: () => resolve(Buffer.concat(pieces)),
            onError: reject,
          },
          false,
          5000,
        );
      });
    const [one, two] = await Promise.all([keep('/one'), keep('/two')]);
    assert.ok(one.equals(body(1)), 'first body intact');
    assert.ok(two.equals(body(2)), 'second body intact');
    await up.close();
  });

  test('a paused exchange resumes and still gets the whole body', async () => {
    const big = 'x'.repeat(256 * 1024);
    const up = await scripted((s) => s.write(ok(big)));
    const r = await call(poolFor(up.port), '/big', { pauseFirst: true });
    assert.equal(r.body.length, big.length);
    await up.close();
  });

  test('an idle connection the upstream closed is forgotten, not reused', async () => {
    const up = await scripted((s) => {
      s.write(ok('one'));
      setTimeout(() => s.destroy(), 10);
    });
    const pool = poolFor(up.port);
    assert.equal((await call(pool)).body, 'one');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(pool.size.idle, 0);
    assert.equal((await call(pool)).body, 'one');
    assert.equal(up.connections, 2);
    await up.close();
  });

  test('a reused connection closed as the request goes out is reported as stale (safe to replay)', async () => {
    let n = 0;
    const up = await scripted((s) => {
      if (n++ === 0) s.write(ok('first'));
      else s.destroy();
    });
    const pool = poolFor(up.port);
    assert.equal((await call(pool)).body, 'first');
    const r = await call(pool);
    assert.equal(r.error?.kind, 'stale');
    await up.close();
  });

  test('bytes after a chunked answer’s end fail the exchange, and the connection is not reused', async () => {
    const up = await scripted((s) =>
      s.write(
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' +
          'HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nstolen',
      ),
    );
    const pool = poolFor(up.port);
    const r = await call(pool, '/one');
    assert.equal(r.error?.kind, 'protocol');
    // The next request does not get the stray answer: it goes on a new connection.
    assert.notEqual((await call(pool, '/two')).body, 'stolen');
    assert.equal(up.connections, 2);
    await up.close();
  });

  test('a reset during a read-until-close body fails the exchange; a clean close ends it', async () => {
    const up = await scripted((s, head) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhalf of it');
      if (head.includes('/reset')) setTimeout(() => s.resetAndDestroy(), 50);
      else setTimeout(() => s.end(), 50);
    });
    const pool = poolFor(up.port);
    const cut = await call(pool, '/reset');
    assert.equal(cut.error?.kind, 'closed');
    const whole = await call(pool, '/end');
    assert.equal(whole.error, null);
    assert.equal(whole.body, 'half of it');
    await up.close();
  });

  test('fields named in Connection are not passed on; Transfer-Encoding drops Content-Length', async () => {
    const up = await scripted((s) =>
      s.write(
        'HTTP/1.1 200 OK\r\nConnection: X-Hop, keep-alive\r\nX-Hop: secret\r\nX-Kept: 1\r\n' +
          'Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      ),
    );
    const r = await call(poolFor(up.port));
    assert.equal(r.error, null);
    assert.equal(r.body, 'ok');
    assert.deepEqual(r.headers, ['x-kept', '1']);
    await up.close();
  });

  test('refused, silent and malformed upstreams fail with their kind', async () => {
    const closed = await scripted(() => undefined);
    const port = closed.port;
    await closed.close();
    assert.equal((await call(poolFor(port))).error?.kind, 'connect');

    const silent = await scripted(() => undefined);
    assert.equal(
      (await call(poolFor(silent.port), '/x', { timeoutMs: 100 })).error?.kind,
      'timeout',
    );
    await silent.close();

    for (const wire of [
      'SMTP ready\r\n\r\n',
      'HTTP/1.1 2x0 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      // A value that would split the answer the gateway writes on: a bare LF or CR, a NUL.
      'HTTP/1.1 200 OK\r\nx-a: 1\nset-cookie: x=1\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: 1\rset-cookie: x=1\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a: 1\x00\r\ncontent-length: 0\r\n\r\n',
      // A name that is not a token (RFC 9110 §5.1): a space, a separator, nothing.
      'HTTP/1.1 200 OK\r\nx a: 1\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx-a : 1\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nx(a): 1\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\n: 1\r\ncontent-length: 0\r\n\r\n',
    ]) {
      const up = await scripted((s) => s.write(wire));
      const r = await call(poolFor(up.port));
      assert.equal(r.error?.kind, 'protocol', `accepted: ${JSON.stringify(wire)}`);
      await up.close();
    }
  });
});

/** What a client made of an answer: the message, a refusal, or still waiting. */
type Reading =
  | { kind: 'answer'; status: number; headers: string[]; body: string }
  | { kind: 'refused'; why: string }
  | { kind: 'pending' };

type Ending = 'close' | 'reset' | 'keep';

/**
 * One upstream whose every connection is answered with the bytes of the case
 * in progress, then closed, reset or kept open.
 */
async function replayer(): Promise<{ port: number; play(bytes: Buffer, end: Ending): void }> {
  let bytes: Buffer = Buffer.alloc(0);
  let ending: Ending = 'close';
  const up = await scripted((socket) => {
    socket.write(bytes);
    if (ending === 'close') socket.end();
    // Once the bytes are read: a reset drops what the peer has not read yet.
    else if (ending === 'reset') setTimeout(() => socket.resetAndDestroy(), 50);
  });
  return {
    port: up.port,
    play(b, e) {
      bytes = b;
      ending = e;
    },
  };
}

const WAIT_MS = 500;

async function oursRead(port: number): Promise<Reading> {
  const pool = new Http1Pool('127.0.0.1', port, { maxIdle: 1, idleTimeoutMs: 4000 });
  try {
    const r = await Promise.race([
      call(pool, '/x', { timeoutMs: WAIT_MS }),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), WAIT_MS + 200)),
    ]);
    if (r === null) return { kind: 'pending' };
    if (r.error) return { kind: 'refused', why: r.error.message };
    return { kind: 'answer', status: r.status, headers: r.headers, body: r.body };
  } finally {
    pool.close();
  }
}

/**
 * node's client (llhttp) on the same bytes, seen as a proxy must pass the
 * answer on: without the framing and hop-by-hop fields, and without the
 * fields its Connection header names.
 */
function nodeRead(port: number): Promise<Reading> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'pending' }), WAIT_MS);
    const done = (r: Reading) => {
      clearTimeout(timer);
      resolve(r);
    };
    const req = httpRequest({ host: '127.0.0.1', port, path: '/x', agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('aborted', () => done({ kind: 'refused', why: 'aborted' }));
      res.on('error', (e) => done({ kind: 'refused', why: e.message }));
      res.on('end', () => {
        if (!res.complete) return done({ kind: 'refused', why: 'incomplete' });
        const raw = res.rawHeaders;
        const named = new Set(['connection', 'keep-alive', 'transfer-encoding']);
        for (let i = 0; i < raw.length; i += 2)
          if (raw[i]!.toLowerCase() === 'connection')
            for (const t of raw[i + 1]!.split(',')) named.add(t.trim().toLowerCase());
        const headers: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i]!.toLowerCase();
          if (!named.has(name)) headers.push(name, raw[i + 1]!);
        }
        done({ kind: 'answer', status: res.statusCode!, headers, body });
      });
    });
    req.on('error', (e) => done({ kind: 'refused', why: e.message }));
    req.end();
  });
}

/**
 * RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and a proxy that
 * passes such an answer on drops the length first. node's parser refuses the
 * pair instead; what the gateway reads must then be what node reads of the
 * same answer without its Content-Length.
 */
function withoutLengthIfChunked(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return bytes;
  const head = text.slice(0, end + 2);
  if (!/\r\ntransfer-encoding:/i.test(head) || !/\r\ncontent-length:/i.test(head)) return bytes;
  return Buffer.from(
    head.replace(/\r\ncontent-length:[^\r\n]*(?=\r\n)/gi, '') + text.slice(end + 2),
    'latin1',
  );
}

describe('the upstream client frames answers as node’s own parser (llhttp) does', () => {
  let up: Awaited<ReturnType<typeof replayer>>;
  before(async () => {
    up = await replayer();
  });

  /** Where the gateway read an answer otherwise than node: every case, not just the first. */
  let disagreements: string[] = [];

  /** Reads `bytes` both ways; the gateway's reading must be node's, or a refusal. */
  async function compare(bytes: Buffer, end: Ending): Promise<Reading> {
    up.play(bytes, end);
    const ours = await oursRead(up.port);
    up.play(withoutLengthIfChunked(bytes), end);
    const node = await nodeRead(up.port);
    if (ours.kind === 'answer' && !isDeepStrictEqual(ours, node))
      disagreements.push(
        `${JSON.stringify(bytes.toString('latin1'))} (${end}): gateway ${JSON.stringify(ours)}, node ${JSON.stringify(node)}`,
      );
    return ours;
  }

  function agreed(): void {
    const found = disagreements;
    disagreements = [];
    assert.deepEqual(found, [], `read otherwise than node:\n${found.join('\n')}`);
  }

  const valid = [
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello',
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: b\r\n\r\n5\r\nhello\r\n6;e=1\r\n world\r\n0\r\nx-t: 1\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the close',
    'HTTP/1.1 204 No Content\r\nx-a: b\r\n\r\n',
    'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    'HTTP/1.1 404 Not Found\r\nconnection: x-hop, close\r\nx-hop: 1\r\nx-end-to-end: 2\r\ncontent-length: 2\r\n\r\nno',
  ];

  test('well-formed answers are read as node reads them', async () => {
    for (const text of valid) {
      const r = await compare(Buffer.from(text, 'latin1'), 'close');
      assert.equal(r.kind, 'answer', text);
    }
    agreed();
  });

  test('framing that node would read otherwise is refused, never guessed', async () => {
    const cases: [string, Ending][] = [
      // Both lengths: chunked wins and the length is dropped (RFC 9112 §6.3), not forwarded stale.
      [
        'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        'close',
      ],
      // Several Transfer-Encoding fields are one list: a final coding other than chunked.
      [
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        'close',
      ],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'close'],
      [
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        'close',
      ],
      ['HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'close'],
      // Lengths node refuses, each of which the gateway once read as a number.
      ['HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\nabc', 'close'],
      ['HTTP/1.1 200 OK\r\ncontent-length: 0x3\r\n\r\nabc', 'close'],
      ['HTTP/1.1 200 OK\r\ncontent-length: +3\r\n\r\nabc', 'close'],
      ['HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\nabc', 'close'],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', 'close'],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\n', 'close'],
      // A non-breaking space is part of a value, not white space around it.
      ['HTTP/1.1 200 OK\r\nx-a: \xa0v\xa0\r\ncontent-length: 0\r\n\r\n', 'close'],
      [
        'HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
        'close',
      ],
      // A reset is not the end of a read-until-close body: the answer was cut short.
      ['HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\ncut sh', 'reset'],
    ];
    for (const [text, end] of cases) await compare(Buffer.from(text, 'latin1'), end);
    agreed();
    // Each of these was read, and passed on, before; the TE + CL one is read the RFC's way.
    up.play(Buffer.from(cases[0]![0], 'latin1'), 'close');
    const both = await oursRead(up.port);
    assert.equal(both.kind, 'answer');
    assert.ok(both.kind === 'answer' && !both.headers.includes('content-length'));
  });

  test('mutated answers: whatever the gateway reads, node reads the same', async () => {
    const bytes = [
      '\r',
      '\n',
      '\r\n',
      ' ',
      '\t',
      '\x00',
      '\x7f',
      '\xa0',
      '\xff',
      ':',
      ';',
      '0',
      'a',
      '"',
      '=',
      ',',
    ];
    const lines = [
      'Content-Length: 3',
      'Content-Length: 0',
      'Content-Length: 99',
      'Content-Length: 5, 5',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip',
      'Transfer-Encoding: identity',
      'Transfer-Encoding: xchunked',
      'Content-Length: 0x2',
      'Content-Length: ',
      'X-B: \xa0c\xa0',
      'Connection: close',
      'Connection: x-a',
      'X-A: dropped?',
      ' folded',
      'Keep-Alive: timeout=5',
    ];
    // A fixed seed: the same cases every run.
    const { random, mutate } = mutator(0xc0ffee, lines, bytes);
    const endings: Ending[] = ['close', 'close', 'close', 'reset'];
    let read = 0;
    for (let i = 0; i < 300; i++) {
      const text = mutate(valid[random(valid.length)]!);
      const r = await compare(Buffer.from(text, 'latin1'), endings[random(endings.length)]!);
      if (r.kind === 'answer') read++;
    }
    agreed();
    // Enough of them are read for the comparison to mean something.
    assert.ok(read > 60, `only ${read} of 300 mutated answers were read`);
  });
});

describe('upstream framing through the gateway, on the fast path and on Fastify’s', () => {
  let gw: GatewayHandle;
  let answer: (socket: Socket) => void = () => undefined;
  before(async () => {
    const up = await scripted((socket, head) => {
      if (head.startsWith('GET /readyz')) socket.write(ok('{"status":"ok"}'));
      else answer(socket);
    });
    gw = await startGateway({ LIVE_URL: `http://127.0.0.1:${up.port}` });
  });
  after(() => gw.close());

  /** GET takes the fast path (the gateway's client), POST Fastify's (undici). */
  const ask = (method: 'GET' | 'POST') =>
    fetch(`${gw.url}/api/v1/streams/x`, {
      method,
      ...(method === 'POST' ? { body: 'x', headers: { 'content-type': 'text/plain' } } : {}),
    });

  test('an answer with Transfer-Encoding and Content-Length reaches the client with neither a stale nor a second length', async () => {
    answer = (s) =>
      s.write(
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n' +
          'transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      );
    const res = await ask('GET');
    assert.equal(res.status, 200);
    // Passed on chunked, as any chunked answer: the upstream's 3 is gone.
    assert.notEqual(res.headers.get('content-length'), '3');
    assert.equal(await res.text(), 'hello');
    // undici refuses the pair, as node's parser does: a 502, never a body cut at 3 bytes.
    const viaFastify = await ask('POST');
    assert.equal(viaFastify.status, 502);
    await viaFastify.arrayBuffer();
  });

  test('fields the upstream’s Connection header names do not reach the client', async () => {
    answer = (s) => s.write(ok('ok', 'connection: x-hop\r\nx-hop: internal\r\n'));
    for (const method of ['GET', 'POST'] as const) {
      const res = await ask(method);
      assert.equal(res.status, 200, method);
      assert.equal(res.headers.get('x-hop'), null, method);
      assert.equal(await res.text(), 'ok', method);
    }
  });

  test('a reset during a read-until-close body is not passed on as a whole answer', async () => {
    answer = (s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nthe first half');
      setTimeout(() => s.resetAndDestroy(), 50);
    };
    for (const method of ['GET', 'POST'] as const) {
      const outcome = await ask(method).then(
        async (res) => {
          const text = await res.text().catch(() => null);
          return { status: res.status, text };
        },
        () => ({ status: 0, text: null }),
      );
      // A 502, or a cut connection: never a 200 that says "the first half" is all of it.
      assert.ok(
        outcome.status === 502 || outcome.text === null,
        `${method}: ${JSON.stringify(outcome)}`,
      );
    }
  });
});
