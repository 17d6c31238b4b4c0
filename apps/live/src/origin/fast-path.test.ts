import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mediaFastPath, serveFirst, type LiveBroadcasts } from './fast-path.js';

const part = Buffer.from('a part of a live broadcast');

const broadcasts: LiveBroadcasts = {
  serving: (channel) =>
    channel === 'alice'
      ? {
          state: 'ready',
          pipeline: {
            resourceNow: (rendition, file) =>
              rendition === '720p' && file === 'p7.m4s'
                ? { body: part, contentType: 'video/mp4' }
                : null,
          },
        }
      : channel === 'bob'
        ? { state: 'publishing', pipeline: null }
        : null,
};

describe('media fast path', () => {
  let server: Server;
  let base: string;
  let closing: () => void;

  before(async () => {
    // What Fastify would answer: everything the fast path leaves.
    server = createServer((req, res) => {
      res.writeHead(299, { 'x-routed': `${req.method} ${req.url}` });
      res.end();
    });
    closing = serveFirst(server, mediaFastPath(broadcasts)).closing;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a part held in memory with the route headers', async () => {
    for (const prefix of ['hls', 'dash']) {
      const res = await fetch(`${base}/${prefix}/alice/720p/p7.m4s`, {
        headers: { 'x-request-id': 'req-1' },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), part);
      assert.equal(res.headers.get('content-type'), 'video/mp4');
      assert.equal(res.headers.get('content-length'), String(part.length));
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.equal(res.headers.get('x-request-id'), 'req-1');
    }
    const res = await fetch(`${base}/hls/alice/720p/p7.m4s`);
    await res.arrayBuffer();
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('leaves everything else to the routes', async () => {
    const paths = [
      '/hls/alice/720p/p8.m4s',
      '/hls/alice/720p/index.m3u8',
      '/hls/alice/720p/p7.m4s?v=player',
      '/hls/alice/720p/p%37.m4s',
      '/hls/alice/720p/p7.m4s/',
      '/hls/alice/720p',
      '/hls/alice/720p/.p7.m4s',
      '/hls/bob/720p/p7.m4s',
      '/hls/carol/720p/p7.m4s',
      '/hls/Alice/720p/p7.m4s',
      '/vod/alice/720p/p7.m4s',
    ];
    for (const path of paths) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 299, path);
    }
    const head = await fetch(`${base}/hls/alice/720p/p7.m4s`, { method: 'HEAD' });
    assert.equal(head.headers.get('x-routed'), 'HEAD /hls/alice/720p/p7.m4s');
  });

  it('leaves every request to the routes once the server closes', async () => {
    closing();
    const res = await fetch(`${base}/hls/alice/720p/p7.m4s`);
    assert.equal(res.status, 299);
  });
});
