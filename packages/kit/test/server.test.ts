import { describe, it, after } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import Type from 'typebox';
import {
  AppError,
  clientHeaders,
  createLogger,
  createServer,
  requireRole,
  requireUser,
  serveMetrics,
} from '@neon/kit';

const secret = 'test-secret-test-secret-test-secret';

function build() {
  const logger = createLogger({ level: 'silent' });
  const app = createServer({ name: 'demo', logger, internalSecret: secret, bodyLimit: 1024 });
  app.post(
    '/items',
    {
      schema: {
        body: Type.Object(
          { name: Type.String({ minLength: 1 }), count: Type.Integer() },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => ({ ok: true, name: req.body.name }),
  );
  app.get(
    '/page',
    {
      schema: {
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, default: 20 }),
          tags: Type.Optional(Type.Array(Type.String())),
        }),
      },
    },
    async (req) => req.query,
  );
  app.get('/me', async (req) => requireUser(req));
  app.get('/files/:name', async (req) => req.params);
  app.get('/ip', async (req) => ({ ip: req.clientIp }));
  app.get('/admin', async (req) => requireRole(req, 'admin'));
  app.get('/conflict', async () => {
    throw new AppError('CONFLICT', 'Already there.');
  });
  app.get('/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { slow: true };
  });
  app.get('/boom', async () => {
    throw new Error('database password is hunter2');
  });
  return { app };
}

describe('createServer', () => {
  const { app } = build();
  after(() => app.close());

  it('answers health and readiness, with failing checks named', async () => {
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    app.readiness.set('db', async () => undefined);
    assert.equal((await app.inject('/readyz')).json().checks.db, 'ok');
    app.readiness.set('nats', async () => {
      throw new Error('connection refused');
    });
    const res = await app.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().checks, { db: 'ok', nats: 'connection refused' });
    app.readiness.delete('nats');
  });

  it('tells readiness to serve from readiness to take new work', async () => {
    app.readiness.set('db', async () => undefined);
    app.admission.set('capacity', async () => {
      throw new Error('full: 13 broadcasts');
    });
    try {
      const all = await app.inject('/readyz');
      assert.equal(all.statusCode, 503);
      assert.deepEqual(all.json().checks, { db: 'ok', capacity: 'full: 13 broadcasts' });
      const serving = await app.inject('/readyz?scope=serving');
      assert.equal(serving.statusCode, 200);
      assert.deepEqual(serving.json().checks, { db: 'ok' });
      const bad = await app.inject('/readyz?scope=everything');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'VALIDATION_FAILED');
    } finally {
      app.admission.delete('capacity');
    }
  });

  it('keeps Prometheus metrics off the service’s own port; serveMetrics exposes them', async () => {
    await app.inject('/healthz');
    const onApp = await app.inject('/metrics');
    assert.equal(onApp.statusCode, 404);
    const other = createServer({
      name: 'other',
      logger: createLogger({ level: 'silent' }),
      internalSecret: secret,
    });
    await other.inject('/healthz');
    const endpoint = await serveMetrics([app.metrics, other.metrics], {
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
    try {
      assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(endpoint.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = await res.text();
      // One exposition, each service's series under its own label.
      for (const service of ['demo', 'other'])
        assert.match(
          text,
          new RegExp(
            `http_request_duration_seconds_count\\{[^}]*route="/healthz"[^}]*service="${service}"`,
          ),
        );
      assert.equal(text.match(/# TYPE http_request_duration_seconds /g)?.length, 1);
      assert.equal((await fetch(endpoint.url.replace('/metrics', '/other'))).status, 404);
    } finally {
      await endpoint.close();
      await other.close();
    }
  });

  it('issues a request id, or keeps a valid one the caller sent', async () => {
    const issued = await app.inject('/healthz');
    assert.match(issued.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);
    const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'bad id <script>' },
    });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id <script>');
  });

  it('renders validation failures as problem+json with the fields', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: '', count: 'x' },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    const body = res.json();
    assert.equal(body.code, 'VALIDATION_FAILED');
    assert.equal(body.status, 400);
    assert.equal(body.requestId, res.headers['x-request-id']);
    assert.ok(body.errors.length >= 1);
  });

  it('takes a body as sent (a number is no string, a string no number), and converts query strings', async () => {
    for (const payload of [
      { name: 5, count: 1 },
      { name: 'a', count: '1' },
      { name: true, count: 1 },
      { name: ['a'], count: 1 },
      { name: 'a', count: 1.5 },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/items', payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().code, 'VALIDATION_FAILED');
    }
    const ok = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'a', count: 1 },
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual((await app.inject('/page?limit=5')).json(), { limit: 5 });
    assert.deepEqual((await app.inject('/page')).json(), { limit: 20 }, 'the default');
    assert.equal((await app.inject('/page?limit=five')).json().code, 'VALIDATION_FAILED');
    assert.equal((await app.inject('/page?limit=0')).json().code, 'VALIDATION_FAILED');
  });

  it('maps malformed JSON, oversized bodies and wrong media types to their codes', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json' },
      payload: '{nope',
    });
    assert.equal(bad.json().code, 'BAD_REQUEST');
    const big = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'x'.repeat(5000), count: 1 },
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'PAYLOAD_TOO_LARGE');
    const type = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    assert.equal(type.statusCode, 415);
    assert.equal(type.json().code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a text/plain body on a JSON route with 415, not a validation failure', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'text/plain' },
      payload: '{"name":"a","count":1}',
    });
    assert.equal(res.statusCode, 415);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a path the router refuses with problem+json: too long a segment, bad escapes', async () => {
    assert.equal((await app.inject({ url: `/files/${'a'.repeat(100)}` })).statusCode, 200);
    const long = await app.inject({ url: `/files/${'a'.repeat(101)}` });
    assert.equal(long.statusCode, 404);
    assert.equal(long.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(long.json().code, 'NOT_FOUND');
    const bad = await app.inject({ url: '/files/%E0%A4%A' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(bad.json().code, 'BAD_REQUEST');
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the server is still up');
  });

  it('answers a method a route does not take with 405 and an Allow header', async () => {
    const put = await app.inject({ method: 'PUT', url: '/me' });
    assert.equal(put.statusCode, 405);
    assert.equal(put.json().code, 'METHOD_NOT_ALLOWED');
    assert.equal(put.headers.allow, 'GET, HEAD');
    const get = await app.inject({ method: 'GET', url: '/items?x=1' });
    assert.equal(get.statusCode, 405);
    assert.equal(get.headers.allow, 'POST');
    // A path no route has is still a 404.
    assert.equal((await app.inject({ method: 'PUT', url: '/nowhere' })).statusCode, 404);
  });

  it('renders domain errors with their code and unknown errors as a bare 500', async () => {
    const conflict = await app.inject('/conflict');
    assert.equal(conflict.statusCode, 409);
    assert.equal(conflict.json().code, 'CONFLICT');
    const boom = await app.inject('/boom');
    assert.equal(boom.statusCode, 500);
    assert.equal(boom.json().code, 'INTERNAL');
    assert.doesNotMatch(boom.body, /hunter2/);
    const missing = await app.inject('/nowhere');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'NOT_FOUND');
  });

  it('takes the client address from the gateway’s X-Client-Ip only with the internal secret', async () => {
    const viaGateway = await app.inject({
      url: '/ip',
      headers: { 'x-client-ip': '203.0.113.5', 'x-neon-internal': secret },
    });
    assert.equal(viaGateway.json().ip, '203.0.113.5');
    const forged = await app.inject({ url: '/ip', headers: { 'x-client-ip': '203.0.113.5' } });
    assert.equal(forged.json().ip, '127.0.0.1');
  });

  it('trusts identity headers only with the internal secret', async () => {
    const alice = { id: 'u1', username: 'alice', roles: ['user' as const] };
    const ok = await app.inject({ url: '/me', headers: clientHeaders(alice, secret) });
    assert.deepEqual(ok.json(), alice);
    const forged = await app.inject({
      url: '/me',
      headers: { 'x-client-id': 'u1', 'x-client-username': 'alice' },
    });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.json().code, 'AUTH_REQUIRED');
    const wrongSecret = await app.inject({ url: '/me', headers: clientHeaders(alice, 'guess') });
    assert.equal(wrongSecret.statusCode, 401);
    const notAdmin = await app.inject({ url: '/admin', headers: clientHeaders(alice, secret) });
    assert.equal(notAdmin.json().code, 'FORBIDDEN');
    const admin = await app.inject({
      url: '/admin',
      headers: clientHeaders({ ...alice, roles: ['user', 'admin'] }, secret),
    });
    assert.equal(admin.statusCode, 200);
  });
});

describe('createServer on a socket', () => {
  it('answers a head node cannot read with a problem: 400, or 431 when too large', async () => {
    const { app } = build();
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    after(() => app.close());
    const { port } = new URL(url);
    const send = (bytes: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        let out = '';
        socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
        socket.on('close', () => resolve(out));
        socket.on('error', () => resolve(out));
        socket.write(bytes);
      });
    const cases: [string, number, string][] = [
      ['GET /healthz HTTP/1.1\nHost: a\n\n', 400, 'BAD_REQUEST'],
      [
        'GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
        400,
        'BAD_REQUEST',
      ],
      [
        `GET /healthz HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(20_000)}\r\n\r\n`,
        431,
        'HEADERS_TOO_LARGE',
      ],
    ];
    // After a request still being answered: its answer first, then the refusal.
    const pipelined = await send(
      'GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\nHost: a\n\n',
    );
    assert.match(pipelined, /^HTTP\/1\.1 200 [^]*"slow":true[^]*HTTP\/1\.1 400 /);
    for (const [bytes, status, code] of cases) {
      const answer = await send(bytes);
      const what = JSON.stringify(bytes.slice(0, 60));
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), what);
      assert.match(answer, /\r\ncontent-type: application\/problem\+json; charset=utf-8\r\n/, what);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string };
      assert.equal(body.code, code, what);
    }
  });
});
