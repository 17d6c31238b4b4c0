// Every workspace declares what it imports: a package found only because
// npm hoisted it for another workspace breaks the day that one drops it.
// Imports are read with TypeScript's own pre-processor (comments and strings
// are not imports); node's built-ins and the workspace's own name are free.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';

const root = JSON.parse(readFileSync('package.json', 'utf8'));
const workspaces = root.workspaces
  .flatMap((w) =>
    w.endsWith('/*') ? readdirSync(w.slice(0, -2)).map((d) => join(w.slice(0, -2), d)) : [w],
  )
  .filter((d) => existsSync(join(d, 'package.json')));
const builtins = new Set(builtinModules);

function sources(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'build-output'].includes(entry.name)) continue;
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
      out.push(path);
  }
  return out;
}

const packageOf = (spec) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];

// The root's own code is its scripts and configuration files.
const filesOf = (dir) =>
  dir === '.'
    ? sources('scripts').concat(readdirSync('.').filter((f) => /\.config\.m?js$/.test(f)))
    : sources(dir);

const problems = [];
for (const dir of ['.', ...workspaces]) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  const missing = new Map();
  for (const file of filesOf(dir)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: spec } of importedFiles) {
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
      const name = packageOf(spec);
      if (builtins.has(name) || declared.has(name) || missing.has(name)) continue;
      missing.set(name, file);
    }
  }
  for (const [name, file] of missing)
    problems.push(
      `${pkg.name} imports ${name} (${file}) without declaring it in ${dir}/package.json`,
    );
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`the root and ${workspaces.length} workspaces declare every package they import`);
