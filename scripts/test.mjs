// Runs the whole suite: node's test runner over packages, apps and the
// end-to-end tests (real processes, ffmpeg, Chromium), then the web app's
// component tests, and closes with one combined count.
//   npm test                 everything
//   npm test -- --unit       without tests/e2e
//   npm test -- chat gateway only files whose path contains a word
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (/\.test\.ts$/.test(entry.name)) out.push(p);
  }
  return out;
}

const roots = [
  'packages',
  ...readdirSync('apps')
    .filter((a) => a !== 'web')
    .map((a) => join('apps', a)),
];
const matches = (f) => filters.length === 0 || filters.some((w) => f.includes(w));
const units = roots
  .flatMap((r) => walk(r))
  .filter(matches)
  .sort();
const e2e = unitOnly ? [] : walk('tests/e2e').filter(matches).sort();
const webTests = walk('apps/web/src')
  .concat(walk('apps/web/test'))
  .filter((f) => /\.test\.tsx?$/.test(f));

const totals = { pass: 0, fail: 0, skipped: 0 };
// What failed, with its message, is printed again at the very end: the lanes' reports come one
// after another, and a log's tail should say what failed and why without scrolling back.
const failures = [];
const withoutStacks = (text) =>
  text
    .split('\n')
    .filter((line) => !/^\s+at /.test(line))
    .join('\n');

// A quiet run keeps its output and prints it whole when it ends, so two runs
// side by side do not interleave their reports.
function run(cmd, argv, parse, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
      env: process.env,
    });
    let buffer = '';
    const held = [];
    child.stdout.on('data', (chunk) => {
      if (quiet) held.push(chunk);
      else process.stdout.write(chunk);
      buffer += chunk.toString();
      if (buffer.length > 1_000_000) buffer = buffer.slice(-200_000);
    });
    let errors = '';
    child.stderr?.on('data', (chunk) => {
      held.push(chunk);
      // vitest writes what failed to stderr.
      if (errors.length < 1_000_000) errors += chunk.toString();
    });
    child.on('close', (code) => {
      for (const chunk of held) process.stdout.write(chunk);
      parse(`${buffer}\n${errors}`);
      resolve(code ?? 1);
    });
  });
}

function parseNode(out) {
  const failing = out.lastIndexOf('✖ failing tests:');
  if (failing >= 0) failures.push(withoutStacks(out.slice(failing)));
  const num = (label) => Number(out.match(new RegExp(`^[#ℹ] ${label} (\\d+)`, 'm'))?.[1] ?? 0);
  totals.pass += num('pass');
  totals.fail += num('fail') + num('cancelled');
  totals.skipped += num('skipped');
}

function parseVitest(out) {
  const plain = stripVTControlCharacters(out);
  const failed = plain.match(/⎯+ Failed Tests \d+ ⎯+[\s\S]*?(?=\n\s*Test Files |$)/)?.[0];
  if (failed) failures.push(withoutStacks(failed));
  const line = plain.match(/Tests\s+(.*)\(\d+\)/)?.[1] ?? '';
  totals.pass += Number(line.match(/(\d+) passed/)?.[1] ?? 0);
  totals.fail += Number(line.match(/(\d+) failed/)?.[1] ?? 0);
  totals.skipped += Number(line.match(/(\d+) skipped/)?.[1] ?? 0);
}

let failed = false;
const nodeTest = (files, concurrency) => [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=300000',
  ...files,
];

if (units.length > 0)
  failed = (await run(process.execPath, nodeTest(units, 3), parseNode)) !== 0 || failed;

// Both e2e lanes start the platform, which builds the web app and the server
// bundle when stale: build them once here so two builds never race.
if (e2e.length > 0)
  for (const script of ['scripts/ensure-web.mjs', 'scripts/build.mjs'])
    execFileSync(process.execPath, [script], { stdio: 'inherit' });

// End-to-end files that publish video with ffmpeg need the cores in real time
// (a starved ladder sheds rungs, as it should), and those that start the
// platform as `npm start` does check how soon it answers and exits: they run
// one at a time at normal priority. The other e2e files (HTTP, sockets,
// Chromium without video) and then the web app's component tests run beside
// them at the lowest CPU priority, on what the first lane leaves idle.
const needsTheMachine = (f) =>
  /syntheticSourceArgs|startSmallEncoder|'ffmpeg'|startNeon\(/.test(readFileSync(f, 'utf8'));
const first = e2e.filter(needsTheMachine);
const idle = e2e.filter((f) => !needsTheMachine(f));
const withWeb = webTests.length > 0 && (filters.length === 0 || filters.includes('web'));
const niced = (cmd, argv) => ['nice', ['-n', '19', cmd, ...argv]];
const idleLane = async () => {
  const e2eCode =
    idle.length > 0
      ? await run(...niced(process.execPath, nodeTest(idle, 1)), parseNode, { quiet: true })
      : 0;
  const webCode = withWeb
    ? await run(...niced('npx', ['vitest', 'run', '--root', 'apps/web']), parseVitest, {
        quiet: true,
      })
    : 0;
  return e2eCode || webCode;
};
const codes = await Promise.all([
  first.length > 0 ? run(process.execPath, nodeTest(first, 1), parseNode) : 0,
  idleLane(),
]);
failed = codes.some((c) => c !== 0) || failed;
if (failures.length > 0) {
  const text = failures.join('\n');
  process.stdout.write(
    `\nWhat failed, once more:\n${text.length > 12_000 ? `${text.slice(0, 12_000)}\n…` : text}\n`,
  );
}
process.stdout.write(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped\n`);
process.exit(failed || totals.fail > 0 ? 1 : 0);
