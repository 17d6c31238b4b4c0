import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Logger, Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Text worth compressing; media (images, video, fonts) is already compressed. */
const TEXT = /\.(?:js|mjs|css|html|svg|json|webmanifest|txt|xml)$/;

export interface Compressed {
  /** Path inside the build directory, with `/` separators. */
  file: string;
  raw: number;
  br: number | null;
  gzip: number | null;
}

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Writes `<file>.br` and `<file>.gz` next to every text asset under `dir`, at the
 * strongest settings (this runs once per build, and every visit pays for the bytes).
 * A variant that would not be smaller than the file is left out, and so is a gzip
 * variant the size of the brotli one: the server's ETag is made of size and mtime,
 * and the variants may be written within the same millisecond: their sizes must differ.
 */
export async function precompress(dir: string): Promise<Compressed[]> {
  const out: Compressed[] = [];
  for await (const path of files(dir)) {
    if (!TEXT.test(path) || path.endsWith('.map')) continue;
    const source = await readFile(path);
    const [br, gzipped] = await Promise.all([
      brotli(source, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: source.length,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      }),
      gz(source, { level: constants.Z_BEST_COMPRESSION }),
    ]);
    const keepBr = br.length < source.length;
    const keepGzip = gzipped.length < source.length && !(keepBr && gzipped.length === br.length);
    if (keepBr) await writeFile(`${path}.br`, br);
    if (keepGzip) await writeFile(`${path}.gz`, gzipped);
    out.push({
      file: relative(dir, path).split('\\').join('/'),
      raw: source.length,
      br: keepBr ? br.length : null,
      gzip: keepGzip ? gzipped.length : null,
    });
  }
  return out;
}

/** Precompresses the build's output once Vite has written it. */
export function precompressPlugin(): Plugin {
  let outDir = 'dist';
  let logger: Logger | null = null;
  return {
    name: 'neon:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      logger = config.logger;
    },
    async closeBundle() {
      const done = await precompress(outDir);
      const raw = done.reduce((n, f) => n + f.raw, 0);
      const br = done.reduce((n, f) => n + (f.br ?? f.raw), 0);
      logger?.info(`precompressed ${done.length} text files: ${raw} B, ${br} B as brotli`);
    },
  };
}
