import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from '@neon/kit';
import {
  AnswerReader,
  SECRET,
  captureLogger,
  openRaw,
  startGateway,
  variants,
  type GatewayHandle,
} from './harness.js';

/**
 * The login and register limits hold whatever spelling of the path is sent:
 * a service's router decodes `%6c` to `l` and cuts at `#`, so the gateway must
 * limit (and forward) the path the router will see, or refuse it.
 */

/** Spellings of `/api/v1/auth/<name>` a router may take for the route. */
function spellings(name: string): string[] {
  const first = name.charCodeAt(0).toString(16);
  const last = name.charCodeAt(name.length - 1).toString(16);
  const rest = name.slice(1);
  const init = name.slice(0, -1);
  return [
    `/api/v1/auth/%${first}${rest}`,
    `/api/v1/auth/${init}%${last.toUpperCase()}`,
    `/api/v1/auth/${[...name].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`,
    `/api/v1/%61uth/${name}`,
    `/api/v1/auth/${name}#x`,
    `/api/v1/auth/${name}?x=1`,
    `/api/v1/auth/${name}/`,
    `/api/v1/auth//${name}`,
    `/api/v1/auth/${name.toUpperCase()}`,
    `/api/v1/auth/${name};x`,
    `/api/v1/auth/%2e/${name}`,
    `/api/v1/auth/x/../${name}`,
    `/api/v1/auth/${name}%`,
    `http://neon.test/api/v1/auth/${name}`,
  ];
}

/** Sends one POST with a raw request target (fetch would normalise it) and reads the status. */
async function post(gatewayUrl: string, target: string): Promise<number> {
  const socket = await openRaw(gatewayUrl);
  const reader = new AnswerReader(socket);
  const body = '{"login":"alice","password":"guess"}';
  socket.write(
    `POST ${target} HTTP/1.1\r\nhost: neon.test\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
  await reader.end();
  return reader.answers[0]?.status ?? 0;
}

for (const variant of variants) {
  describe(
    `login and register limits under every spelling, with ${variant.name}`,
    { skip: variant.skip },
    () => {
      let upstream: Server;
      let gw: GatewayHandle;
      /** How often each route's handler ran: what a brute force gets to try. */
      const ran = { login: 0, register: 0 };

      before(async () => {
        const { logger } = captureLogger();
        upstream = createServer({ name: 'identity', logger, internalSecret: SECRET });
        // The routes as identity registers them: the router, not a catch-all, decides.
        upstream.post('/api/v1/auth/login', async () => {
          ran.login++;
          return { ok: false };
        });
        upstream.post('/api/v1/auth/register', async () => {
          ran.register++;
          return { ok: true };
        });
        upstream.get('/api/v1/users/*', async (request) => ({ url: request.url }));
        const url = await upstream.listen({ host: '127.0.0.1', port: 0 });
        gw = await startGateway(
          { IDENTITY_URL: url, GATEWAY_AUTH_RATE_LIMIT: '3' },
          { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
        );
      });
      after(async () => {
        await gw.close();
        await upstream.close();
      });

      for (const name of ['login', 'register'] as const)
        test(`after /api/v1/auth/${name} answers 429, every spelling of it does too (or 400)`, async () => {
          const plain = [];
          for (let i = 0; i < 4; i++) plain.push(await post(gw.url, `/api/v1/auth/${name}`));
          assert.deepEqual(plain, [200, 200, 200, 429]);
          const got: Record<string, number> = {};
          for (const target of spellings(name)) got[target] = await post(gw.url, target);
          for (const [target, status] of Object.entries(got))
            assert.ok(status === 429 || status === 400, `${target} answered ${status}`);
          assert.equal(ran[name], 3, `the ${name} handler ran past the limit`);
        });

      /** Sends raw request heads on one connection, the last with Connection: close, and reads every answer. */
      async function exchange(heads: string[]): Promise<AnswerReader> {
        const socket = await openRaw(gw.url);
        const reader = new AnswerReader(socket);
        socket.write(
          heads
            .map((h, i) =>
              i === heads.length - 1 ? h.replace(/\r\n\r\n$/, '\r\nconnection: close\r\n\r\n') : h,
            )
            .join(''),
        );
        await reader.end();
        return reader;
      }

      test('a fragment in the target is a 400 problem, on the front door and on node’s server', async () => {
        const fragment = 'GET /api/v1/users/alice#me HTTP/1.1\r\nhost: neon.test\r\n\r\n';
        // First on a fresh connection (the door reads it), then after a head only node reads.
        const door = await exchange([fragment]);
        const node = await exchange([
          'GET /api/v1/users/alice HTTP/1.1\r\nhost: neon.test\r\ncontent-length: 0\r\n\r\n',
          fragment,
        ]);
        for (const a of [door.answers[0]!, node.answers[1]!]) {
          assert.equal(a.status, 400);
          assert.equal(a.headers['content-type'], 'application/problem+json; charset=utf-8');
          assert.equal((JSON.parse(a.text) as { code: string }).code, 'BAD_REQUEST');
        }
        assert.equal(node.answers[0]!.status, 200);
      });

      test('the admin surface and the socket are judged on the decoded path too', async () => {
        const r = await exchange([
          'GET /%61dmin/v1/users HTTP/1.1\r\nhost: neon.test\r\n\r\n',
          'GET /admin/v1/%75sers HTTP/1.1\r\nhost: neon.test\r\n\r\n',
        ]);
        for (const a of r.answers) {
          assert.equal(a.status, 401);
          assert.equal((JSON.parse(a.text) as { code: string }).code, 'AUTH_REQUIRED');
        }
        const socket = await exchange([
          'GET /socket/websocket?vsn=2.0.0#x HTTP/1.1\r\nhost: neon.test\r\nconnection: upgrade\r\n' +
            'upgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        ]);
        assert.equal(socket.answers[0]!.status, 400);
      });

      test('the upstream receives the normalised path the gateway decided on', async () => {
        const socket = await openRaw(gw.url);
        const reader = new AnswerReader(socket);
        socket.write(
          'GET /api/v1/users/%61l%69ce/%7e%2d%3a%3A?q=%6c HTTP/1.1\r\nhost: neon.test\r\nconnection: close\r\n\r\n',
        );
        await reader.end();
        const answer = reader.answers[0]!;
        assert.equal(answer.status, 200);
        // Unreserved characters decoded, other escapes in upper case; the query as sent.
        assert.deepEqual(JSON.parse(answer.text), { url: '/api/v1/users/alice/~-%3A%3A?q=%6c' });
      });
    },
  );
}
