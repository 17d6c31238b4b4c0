// Lays out node_modules in a mutation-testing sandbox (Stryker's build step,
// run with the sandbox as the working directory).
//
// The workspace packages are linked in node_modules/@neon as relative links
// (../../packages/rtmp). Stryker's own node_modules link would point into the
// checkout, so a test importing `@neon/rtmp` would load the original files and
// never meet a mutant. Here every other entry links to the checkout's copy,
// and @neon is rebuilt with the same relative links, which now land in the
// sandbox.
//   NEON_MUTATE_ROOT=<checkout root> node scripts/mutate-sandbox.mjs
import { mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = process.env.NEON_MUTATE_ROOT;
if (!root) throw new Error('NEON_MUTATE_ROOT must name the checkout the sandbox was copied from');
const from = resolve(root, 'node_modules');
const to = resolve('node_modules');

mkdirSync(to);
for (const entry of readdirSync(from)) {
  if (entry === '@neon') continue;
  symlinkSync(join(from, entry), join(to, entry));
}
mkdirSync(join(to, '@neon'));
for (const name of readdirSync(join(from, '@neon'))) {
  symlinkSync(readlinkSync(join(from, '@neon', name)), join(to, '@neon', name));
}
