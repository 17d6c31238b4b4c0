import assert from 'node:assert/strict';
import { Agent, get, request } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyReply } from 'fastify';
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
 * Every request gets exactly one answer, whatever its size, framing and way
 * in: an answer the gateway writes twice (or a stray second head after a
 * streamed body) hands a shared connection's next request somebody else's
 * answer.
 */

/** Around the 64 KiB line the gateway buffers below, and the sizes of real media segments (84–232 KB). */
const SIZES = [0, 100, 65_535, 65_536, 65_537, 84_000, 150_000, 232_000, 300_000];
const FRAMINGS = ['length', 'chunked'] as const;

/** A byte pattern per size, so an answer read from the wrong request shows. */
const fill = (size: number) => size % 251;

interface Ask {
  method: 'GET' | 'HEAD' | 'POST';
  path: string;
  /** The body length the answer must carry (HEAD: none). */
  size: number;
  /** Extra header lines, each ending in CRLF. */
  extra?: string;
}

function wire(ask: Ask, last: boolean): string {
  const body = ask.method === 'POST' ? 'x' : '';
  const length = ask.method === 'POST' ? 'content-type: text/plain\r\ncontent-length: 1\r\n' : '';
  const close = last ? 'connection: close\r\n' : '';
  return `${ask.method} ${ask.path} HTTP/1.1\r\nhost: neon.test\r\n${length}${ask.extra ?? ''}${close}\r\n${body}`;
}

/** A kit service that answers every size class with a declared length or chunked. */
async function mediaUpstream(): Promise<{ url: string; server: Server }> {
  const { logger } = captureLogger();
  const server = createServer({ name: 'live', logger, internalSecret: SECRET });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
  const answer = async (request: { params: unknown; method: string }, reply: FastifyReply) => {
    const { size, framing } = request.params as { size: string; framing: string };
    const n = Number(size);
    const body = Buffer.alloc(n, fill(n));
    if (framing === 'length')
      return reply
        .header('cache-control', 'public, max-age=60, immutable')
        .type('video/iso.segment')
        .send(body);
    // No declared length: node frames it chunked, in pieces as a packager writes them.
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'video/iso.segment' });
    for (let at = 0; at < n; at += 16_384) reply.raw.write(body.subarray(at, at + 16_384));
    reply.raw.end();
    return reply;
  };
  server.route({
    method: ['GET', 'HEAD', 'POST'],
    url: '/vod/:size/:framing/:file',
    exposeHeadRoute: false,
    handler: answer,
  });
  server.route({
    method: ['GET', 'HEAD'],
    url: '/hls/:size/:framing/:file',
    exposeHeadRoute: false,
    handler: answer,
  });
  server.get('/api/v1/users/:name', async (request) => ({
    name: (request.params as { name: string }).name,
  }));
  server.get('/api/v1/me', async () => ({ me: null }));
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return { url, server };
}

/** Media of every size and framing, and the small API answers between them, as the probe sent them. */
function mixed(method: 'GET' | 'HEAD' | 'POST', prefix = '/vod'): Ask[] {
  const out: Ask[] = [];
  for (const size of SIZES)
    for (const framing of FRAMINGS) {
      out.push({ method, path: `${prefix}/${size}/${framing}/s1.m4s`, size });
      if (method !== 'POST') out.push({ method: 'GET', path: '/api/v1/users/between', size: -1 });
    }
  return out;
}

/** How a request sequence reaches the gateway: what precedes it on the connection, and the requests. */
interface WayIn {
  name: string;
  /** A request sent first, to put the connection where this way in needs it. */
  opener?: Ask;
  asks: Ask[];
}

const ways: WayIn[] = [
  {
    name: 'the front door',
    asks: [...mixed('GET'), ...mixed('HEAD')],
  },
  {
    // A Content-Length the door does not read: node's server parses this connection from then on.
    name: "node's server",
    opener: {
      method: 'GET',
      path: '/api/v1/users/opener',
      size: -1,
      extra: 'content-length: 0\r\n',
    },
    asks: [...mixed('GET'), ...mixed('HEAD')],
  },
  {
    // Requests with a body, and anonymous playback through the edge cache: Fastify's route.
    name: 'the Fastify route',
    opener: { method: 'POST', path: '/vod/10/length/opener', size: 10 },
    asks: [...mixed('POST'), ...mixed('GET', '/hls')],
  },
];

function check(reader: AnswerReader, asks: Ask[], label: string): void {
  assert.equal(
    reader.answers.length,
    asks.length,
    `${label}: ${asks.length} requests, ${reader.answers.length} answers`,
  );
  assert.equal(reader.leftover.length, 0, `${label}: bytes after the last answer`);
  asks.forEach((ask, i) => {
    const a = reader.answers[i]!;
    const what = `${label}: answer ${i} to ${ask.method} ${ask.path}`;
    assert.equal(a.status, 200, what);
    const repeated = a.names.filter((n, j) => a.names.indexOf(n) !== j);
    assert.deepEqual(repeated, [], `${what}: headers sent twice`);
    if (ask.method === 'HEAD') assert.equal(a.body.length, 0, what);
    else if (ask.size >= 0) {
      assert.equal(a.body.length, ask.size, what);
      if (ask.size > 0) {
        assert.equal(a.body[0], fill(ask.size), what);
        assert.equal(a.body.at(-1), fill(ask.size), what);
      }
    } else assert.match(a.text, /"name"/, what);
  });
}

for (const variant of variants) {
  describe(
    `every request gets exactly one answer, with ${variant.name}`,
    { skip: variant.skip },
    () => {
      let upstream: { url: string; server: Server };
      let gw: GatewayHandle;

      before(async () => {
        upstream = await mediaUpstream();
        gw = await startGateway(
          { LIVE_URL: upstream.url, IDENTITY_URL: upstream.url, GATEWAY_API_RATE_LIMIT: '0' },
          { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
        );
      });
      after(async () => {
        await gw.close();
        await upstream.server.close();
      });

      for (const way of ways) {
        const all = way.opener ? [way.opener, ...way.asks] : way.asks;
        const heads = all.map((a) => a.method === 'HEAD');

        test(`pipelined through ${way.name}`, async () => {
          const socket = await openRaw(gw.url);
          const reader = new AnswerReader(socket, heads);
          socket.write(all.map((a, i) => wire(a, i === all.length - 1)).join(''));
          await reader.end();
          check(reader, all, `pipelined through ${way.name}`);
        });

        test(`one after another on a kept-alive connection through ${way.name}`, async () => {
          const socket: Socket = await openRaw(gw.url);
          const reader = new AnswerReader(socket, heads);
          for (let i = 0; i < all.length; i++) {
            socket.write(wire(all[i]!, i === all.length - 1));
            await reader.wait(i + 1, 5000);
            if (reader.answers.length <= i) break;
            // A stray answer trails the real one: give it the time to arrive before the next request.
            await new Promise((r) => setImmediate(r));
          }
          socket.end();
          await reader.end();
          check(reader, all, `kept alive through ${way.name}`);
        });
      }

      test("node's own client reads every segment, with Connection: close and kept alive", async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const fetchOne = (path: string, close: boolean) =>
            new Promise<Buffer>((resolve, reject) => {
              const req = get(
                `${gw.url}${path}`,
                close ? { headers: { connection: 'close' }, agent: false } : { agent },
                (res) => {
                  const pieces: Buffer[] = [];
                  res.on('data', (d: Buffer) => pieces.push(d));
                  res.on('end', () => resolve(Buffer.concat(pieces)));
                  res.on('error', reject);
                },
              );
              req.on('error', reject);
            });
          for (const close of [true, false])
            for (const size of SIZES)
              for (const framing of FRAMINGS) {
                const body = await fetchOne(`/vod/${size}/${framing}/s1.m4s`, close);
                assert.equal(body.length, size, `${framing} ${size}, close=${close}`);
              }
          // A parse error on a kept-alive socket would surface on the next request on it.
          const last = await new Promise<number>((resolve, reject) => {
            const req = request(`${gw.url}/api/v1/me`, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('error', reject);
            req.end();
          });
          assert.equal(last, 200);
        } finally {
          agent.destroy();
        }
      });
    },
  );
}
