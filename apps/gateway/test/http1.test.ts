import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Http1Pool, type ExchangeHandler, type UpstreamError } from '../src/upstream/http1.js';

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
