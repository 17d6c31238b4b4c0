// Compiles the server into dist/: one ES module per entry point (the
// all-in-one launcher and each service's own main), with our workspace code
// bundled in and every npm dependency left to node_modules (native addons,
// PGlite's WebAssembly and ffmpeg's wrappers load from there as they are).
// `npm start` then runs `node dist/start.js` directly: no TypeScript loader
// at run time, and the server itself is the process that gets the signals.
//
// Cached: when every output is newer than every source it was built from,
// nothing is done (a few milliseconds), so a warm start pays nothing.
//   node scripts/build.mjs          build if stale
//   node scripts/build.mjs --force  build anyway
import { build } from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const out = 'dist';
const services = readdirSync('apps').filter((a) => existsSync(join('apps', a, 'src', 'main.ts')));
const entries = {
  start: 'launcher/src/start.ts',
  neon: 'launcher/src/cli.ts',
  ...Object.fromEntries(services.map((s) => [s, join('apps', s, 'src', 'main.ts')])),
};

function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'test') continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale() {
  const roots = [
    'launcher/src',
    ...readdirSync('packages').map((p) => join('packages', p, 'src')),
    ...services.map((s) => join('apps', s, 'src')),
  ];
  const sources = Math.max(
    ...roots.map(newest),
    statSync('package-lock.json').mtimeMs,
    statSync('scripts/build.mjs').mtimeMs,
  );
  return Object.keys(entries).some((name) => {
    const file = join(out, `${name}.js`);
    return !existsSync(file) || statSync(file).mtimeMs < sources;
  });
}

/** Workspace packages (@neon/*) are TypeScript sources: bundle them; everything else stays external. */
const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@neon/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

if (process.argv.includes('--force') || stale()) {
  const started = Date.now();
  await build({
    entryPoints: entries,
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    // Split shared workspace code into chunks, so the six services and the
    // launcher do not each carry their own copy on disk.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [externalDependencies],
    logLevel: 'warning',
  });
  process.stdout.write(`Built the server into ${out}/ in ${Date.now() - started} ms\n`);
}
