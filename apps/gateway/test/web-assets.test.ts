import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { startGateway, type GatewayHandle } from './harness.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request over a plain socket: the body exactly as sent, nothing decoded on the way. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(answer: Answer): Buffer {
  switch (answer.headers['content-encoding']) {
    case 'br':
      return brotliDecompressSync(answer.body);
    case 'gzip':
      return gunzipSync(answer.body);
    case undefined:
      return answer.body;
    default:
      throw new Error(`unexpected encoding ${String(answer.headers['content-encoding'])}`);
  }
}

const APP = '/assets/index-Bx7kQ2aZ.js';
const POSTER = '/assets/poster-Df3a9Kx1.jpg';
const js = Buffer.from(
  Array.from({ length: 400 }, (_, i) => `export const value${i} = "neon ${i % 7}";\n`).join(''),
);
const html = Buffer.from(
  `<!doctype html><html lang="en"><head><title>Neon</title><script type="module" src="${APP}"></script></head><body><div id="root"></div>${'<!-- padding -->'.repeat(40)}</body></html>`,
);
// Bytes that compress well, as an image never should be compressed again.
const poster = Buffer.alloc(4096, 7);

describe('the web build, compressed and cached', () => {
  let root: string;
  let gw: GatewayHandle;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'neon-web-z-'));
    await mkdir(join(root, 'assets'));
    // As the build leaves it: each text asset with .br and .gz next to it; one mtime for all
    // three, so only the sizes tell their ETags apart.
    for (const [path, body] of [
      [APP, js],
      ['/index.html', html],
    ] as const) {
      const file = join(root, path);
      await writeFile(file, body);
      await writeFile(`${file}.br`, brotliCompressSync(body));
      await writeFile(`${file}.gz`, gzipSync(body));
      const { atime, mtime } = await stat(file);
      await utimes(`${file}.br`, atime, mtime);
      await utimes(`${file}.gz`, atime, mtime);
    }
    await writeFile(join(root, POSTER), poster);
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    gw = await startGateway({ WEB_ROOT: root });
  });
  after(async () => {
    await gw.close();
    await rm(root, { recursive: true, force: true });
  });

  test('each encoding decodes to the same bytes, with its own length and ETag', async () => {
    const cases = [
      ['gzip, deflate, br, zstd', 'br'],
      ['br;q=0.5, gzip', 'gzip'],
      ['gzip;q=0.8, br;q=0.9', 'br'],
      ['gzip', 'gzip'],
      ['identity', undefined],
      ['br;q=0, gzip;q=0', undefined],
      ['', undefined],
    ] as const;
    const etags = new Map<string | undefined, string>();
    for (const [accept, expected] of cases) {
      const res = await get(`${gw.url}${APP}`, accept ? { 'accept-encoding': accept } : {});
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers['content-encoding'], expected, accept);
      assert.match(String(res.headers['content-type']), /javascript/, accept);
      assert.match(String(res.headers.vary), /accept-encoding/i, accept);
      assert.equal(Number(res.headers['content-length']), res.body.length, accept);
      assert.deepEqual(decode(res), js, accept);
      const etag = String(res.headers.etag);
      const seen = etags.get(expected);
      if (seen) assert.equal(etag, seen, `${accept}: one ETag per encoding`);
      etags.set(expected, etag);
    }
    assert.equal(new Set(etags.values()).size, 3, 'br, gzip and identity have distinct ETags');
    assert.ok(
      (await get(`${gw.url}${APP}`, { 'accept-encoding': 'br' })).body.length < js.length / 4,
    );
  });

  test('HEAD answers the length of what GET would send', async () => {
    for (const accept of ['br', 'gzip', 'identity']) {
      const full = await get(`${gw.url}${APP}`, { 'accept-encoding': accept });
      const head = await get(`${gw.url}${APP}`, { 'accept-encoding': accept }, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(head.headers['content-encoding'], full.headers['content-encoding']);
      assert.equal(head.headers['content-length'], full.headers['content-length']);
      assert.equal(head.headers.etag, full.headers.etag);
    }
  });

  test('If-None-Match revalidates per encoding', async () => {
    const br = await get(`${gw.url}${APP}`, { 'accept-encoding': 'br' });
    const gz = await get(`${gw.url}${APP}`, { 'accept-encoding': 'gzip' });
    const fresh = await get(`${gw.url}${APP}`, {
      'accept-encoding': 'br',
      'if-none-match': String(br.headers.etag),
    });
    assert.equal(fresh.status, 304);
    assert.equal(fresh.body.length, 0);
    assert.match(String(fresh.headers.vary), /accept-encoding/i);
    const freshGz = await get(`${gw.url}${APP}`, {
      'accept-encoding': 'gzip',
      'if-none-match': String(gz.headers.etag),
    });
    assert.equal(freshGz.status, 304);
    // A gzip copy is not what a brotli client would now get: it is sent the brotli bytes.
    const switched = await get(`${gw.url}${APP}`, {
      'accept-encoding': 'br',
      'if-none-match': String(gz.headers.etag),
    });
    assert.equal(switched.status, 200);
    assert.equal(switched.headers['content-encoding'], 'br');
    assert.deepEqual(decode(switched), js);
  });

  test('ranges and media are sent as stored, never compressed', async () => {
    const range = await get(`${gw.url}${APP}`, { 'accept-encoding': 'br', range: 'bytes=0-9' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-encoding'], undefined);
    assert.deepEqual(range.body, js.subarray(0, 10));
    const image = await get(`${gw.url}${POSTER}`, { 'accept-encoding': 'br, gzip' });
    assert.equal(image.status, 200);
    assert.equal(image.headers['content-encoding'], undefined);
    assert.deepEqual(image.body, poster);
    // The variants themselves are not addressable.
    for (const suffix of ['.br', '.gz']) {
      const variant = await get(`${gw.url}${APP}${suffix}`);
      assert.equal(variant.status, 404, suffix);
      assert.match(String(variant.headers['content-type']), /problem\+json/, suffix);
    }
  });

  test('hashed assets are immutable for a year; index.html and the SPA fallback revalidate', async () => {
    for (const accept of ['br', 'gzip', 'identity']) {
      const res = await get(`${gw.url}${APP}`, { 'accept-encoding': accept });
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', accept);
    }
    assert.equal(
      (await get(`${gw.url}${POSTER}`)).headers['cache-control'],
      'public, max-age=31536000, immutable',
    );
    assert.equal((await get(`${gw.url}/favicon.svg`)).headers['cache-control'], 'no-cache');
    for (const path of ['/', '/index.html', '/c/somebody', '/videos/abc']) {
      for (const accept of ['br', 'gzip', 'identity']) {
        const res = await get(`${gw.url}${path}`, { 'accept-encoding': accept });
        assert.equal(res.status, 200, path);
        assert.equal(res.headers['cache-control'], 'no-cache', `${path} ${accept}`);
        assert.match(String(res.headers['content-type']), /text\/html/, path);
        assert.ok(res.headers.etag, `${path}: revalidated by ETag`);
        assert.deepEqual(decode(res), html, `${path} ${accept}`);
        const again = await get(`${gw.url}${path}`, {
          'accept-encoding': accept,
          'if-none-match': String(res.headers.etag),
        });
        assert.equal(again.status, 304, `${path} ${accept}`);
      }
    }
  });

  test('a cross-origin request keeps both Vary keys', async () => {
    const res = await get(`${gw.url}${APP}`, {
      'accept-encoding': 'br',
      origin: 'https://elsewhere.example',
    });
    assert.match(String(res.headers.vary), /accept-encoding/i);
    assert.match(String(res.headers.vary), /origin/i);
  });
});
