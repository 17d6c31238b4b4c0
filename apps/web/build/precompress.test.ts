import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { precompress } from './precompress';

describe('precompressing the build', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'neon-precompress-'));
    await mkdir(join(dir, 'assets'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );

  it('writes brotli and gzip variants of text that decode to the same bytes', async () => {
    const js = Buffer.from('export const a = 1;\n'.repeat(200));
    const files = {
      'assets/index-AbCdEf12.js': js,
      'assets/index-AbCdEf12.css': Buffer.from('body { color: red; }\n'.repeat(100)),
      'index.html': Buffer.from(`<!doctype html>${'<p>neon</p>'.repeat(100)}`),
      'favicon.svg': Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg">${'<g/>'.repeat(100)}</svg>`,
      ),
    };
    for (const [path, body] of Object.entries(files)) await writeFile(join(dir, path), body);
    const done = await precompress(dir);
    expect(done.map((f) => f.file).sort()).toEqual(Object.keys(files).sort());
    for (const [path, body] of Object.entries(files)) {
      const file = join(dir, path);
      expect(brotliDecompressSync(await readFile(`${file}.br`))).toEqual(body);
      expect(gunzipSync(await readFile(`${file}.gz`))).toEqual(body);
      // The server's ETags are made of size and mtime: sizes alone keep them distinct.
      const [raw, br, gz] = await Promise.all([stat(file), stat(`${file}.br`), stat(`${file}.gz`)]);
      expect(new Set([raw.size, br.size, gz.size]).size).toBe(3);
    }
  });

  it('leaves media, source maps and text that would not shrink alone', async () => {
    await writeFile(join(dir, 'assets/poster-AbCdEf12.jpg'), Buffer.alloc(4096, 1));
    await writeFile(join(dir, 'assets/clip-AbCdEf12.mp4'), Buffer.alloc(4096, 1));
    await writeFile(join(dir, 'assets/app-AbCdEf12.js.map'), '{}'.repeat(500));
    await writeFile(join(dir, 'tiny.json'), '{}');
    await precompress(dir);
    for (const path of [
      'assets/poster-AbCdEf12.jpg',
      'assets/clip-AbCdEf12.mp4',
      'assets/app-AbCdEf12.js.map',
      'tiny.json',
    ]) {
      expect(await exists(join(dir, `${path}.br`)), path).toBe(false);
      expect(await exists(join(dir, `${path}.gz`)), path).toBe(false);
    }
  });
});
