// Mutation testing of the code where a silent bug hurts users most.
//   npm run mutate                 every module, one after another
//   npm run mutate -- chat rtmp    only these modules (by name)
//   npm run mutate -- --list       the modules and what they mutate
//   npm run mutate -- --incremental chat
//                                  reuse the last run's results where neither the
//                                  code nor the tests covering a mutant changed
//   npm run mutate -- gateway --only=verifier
//                                  only the module's files whose path contains this
//   npm run mutate -- gateway --tests=apps/gateway/test/verifier-rules.test.ts
//                                  only these tests (globs, comma-separated): quicker
//                                  while killing survivors, but a lower bound of the
//                                  score, since the module's other tests are left out
//
// StrykerJS plants one small bug (a mutant) at a time in the module's files
// and runs the module's tests through the TAP runner, each test file in its
// own `node --import tsx` process (node's test runner prints TAP). A mutant
// that no test notices "survives". Per module it prints the score, writes
// Stryker's HTML and JSON report plus survivors.md (what survived, and
// whether docs/mutation.md lists it as equivalent) to reports/mutation/<name>/,
// and a table of every module run to reports/mutation/summary.md.
//
// Slow by design: not part of `npm test` or CI. Concurrency defaults to 2
// (NEON_MUTATE_CONCURRENCY to change it). Tests use the real engines when
// TEST_DATABASE_URL, TEST_NATS_URL and TEST_REDIS_URL are set, as `npm test`.
//
// To cover a new module, add an entry to `modules` below: the files to
// mutate, the tests that guard them.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const THRESHOLD = 85;

/**
 * `mutate`: globs, or { file, methods } to mutate only some methods of a class
 * (each from its first line to the closing brace at the method's indentation).
 * `tests`: the test files that guard the module; keep them to the ones that
 * exercise it, as each surviving mutant runs all of those covering it.
 * @type {{ name: string, about: string, mutate: (string | { file: string, methods: string[] })[], tests: string[] }[]}
 */
const modules = [
  {
    name: 'identity',
    about: 'identity: login, registration, refresh rotation, token issuing, password policy',
    mutate: [
      'apps/identity/src/auth/auth.service.ts',
      'apps/identity/src/keys/token-issuer.ts',
      'apps/identity/src/domain/refresh-token.ts',
      'apps/identity/src/domain/password-policy.ts',
    ],
    tests: ['apps/identity/src/domain/*.test.ts', 'apps/identity/test/*.test.ts'],
  },
  {
    name: 'gateway',
    about: 'gateway: token verifier, admission, socket ticket store, identity header rules',
    mutate: [
      'apps/gateway/src/auth/verifier.ts',
      'apps/gateway/src/auth/admission.ts',
      'apps/gateway/src/auth/ticket-store.ts',
      'apps/gateway/src/proxy/security.ts',
      'apps/gateway/src/proxy/headers.ts',
    ],
    tests: ['apps/gateway/test/*.test.ts'],
  },
  {
    name: 'chat',
    about: 'chat: who may join, shout and moderate, history, message rules',
    mutate: [
      // The rules; the delivery plumbing (batching, fan-out, events) is left out.
      {
        file: 'apps/chat/src/rooms/chat.service.ts',
        methods: ['room', 'join', 'shout', 'moderate', 'checkTarget'],
      },
      'apps/chat/src/rooms/room.ts',
      'apps/chat/src/domain/*.ts',
      '!apps/chat/src/domain/*.test.ts',
    ],
    tests: ['apps/chat/src/**/*.test.ts', 'apps/chat/test/chat*.test.ts'],
  },
  {
    name: 'stream-keys',
    about: 'live: stream keys (generation, hashing, comparison, sealing, the publish check)',
    // The channel repository is plain SQL shared with the channel pages; the key lookup in it is exercised through `resolve`.
    mutate: [
      'apps/live/src/stream-keys/stream-key.ts',
      'apps/live/src/stream-keys/stream-key.service.ts',
      'apps/live/src/stream-keys/stream-key.routes.ts',
    ],
    tests: [
      'apps/live/src/stream-keys/*.test.ts',
      'apps/live/test/api.test.ts',
      'apps/live/test/stream-key-publish.test.ts',
    ],
  },
  {
    name: 'rtmp',
    about: 'rtmp: chunk parser and its limits',
    mutate: ['packages/rtmp/src/chunk.ts', 'packages/rtmp/src/session-types.ts'],
    // Not the fuzzer (random, slow) nor the ffmpeg interop test (a real encoder, slow).
    tests: [
      'packages/rtmp/test/*.test.ts',
      '!packages/rtmp/test/fuzz.test.ts',
      '!packages/rtmp/test/ffmpeg-interop.test.ts',
    ],
  },
  {
    name: 'payments',
    about:
      "payments: Stripe's signature check, the events read from it, the subscription state machine",
    mutate: [
      'apps/payments/src/webhooks/stripe-signature.ts',
      'apps/payments/src/webhooks/stripe-events.ts',
      'apps/payments/src/domain/subscription-state.ts',
    ],
    tests: ['apps/payments/src/**/*.test.ts', 'apps/payments/test/*.test.ts'],
  },
  {
    name: 'oauth',
    about:
      'identity: OAuth grant checks (clients, redirect URIs, scopes, PKCE, code and refresh reuse)',
    mutate: [
      'apps/identity/src/oauth/oauth-model.ts',
      'apps/identity/src/oauth/redirect-uri.ts',
      {
        file: 'apps/identity/src/oauth/oauth.service.ts',
        methods: [
          'preview',
          'authorize',
          'token',
          'revoke',
          'trustedClient',
          'requestedScopes',
          'authenticateClient',
        ],
      },
    ],
    tests: ['apps/identity/src/oauth/*.test.ts', 'apps/identity/test/oauth*.test.ts'],
  },
  {
    name: 'webhooks',
    about: 'channels: the EventSub signer, callback address rules and verification handshake',
    mutate: [
      'apps/channels/src/eventsub/signature.ts',
      'apps/channels/src/eventsub/address.ts',
      'apps/channels/src/eventsub/callback.ts',
    ],
    tests: ['apps/channels/test/eventsub-address.test.ts', 'apps/channels/test/eventsub.test.ts'],
  },
  {
    name: 'playlist',
    about: 'media: LL-HLS playlist rules (media and master playlists, blocking reload)',
    mutate: ['packages/media/src/playlist.ts'],
    tests: ['packages/media/test/packager.test.ts', 'packages/media/test/playlist.test.ts'],
  },
];

const args = process.argv.slice(2);
if (args.includes('--list')) {
  for (const m of modules)
    console.log(
      `${m.name.padEnd(12)} ${m.about}\n${' '.repeat(13)}${m.mutate
        .map((e) => (typeof e === 'string' ? e : `${e.file} (${e.methods.join(', ')})`))
        .join(' ')}`,
    );
  process.exit(0);
}
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !modules.some((m) => m.name === w));
if (unknown.length > 0) {
  console.error(
    `No module named ${unknown.join(', ')}. Modules: ${modules.map((m) => m.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = wanted.length === 0 ? modules : modules.filter((m) => wanted.includes(m.name));
const incremental = args.includes('--incremental');
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = option('only');
const testsOverride = option('tests')?.split(',');

/** Test files matching the globs (`*`, `**`; a leading `!` excludes), as the TAP runner cannot exclude. */
function testFiles(patterns) {
  const toRegExp = (glob) =>
    new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\uE000')
        .replace(/\*/g, '[^/]*')
        .replace(/\uE000/g, '(?:.*/)?')}$`,
    );
  const include = patterns.filter((p) => !p.startsWith('!')).map(toRegExp);
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => toRegExp(p.slice(1)));
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = dir === '.' ? e.name : join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (include.some((r) => r.test(p)) && !exclude.some((r) => r.test(p))) files.push(p);
    }
  };
  for (const top of ['apps', 'packages']) walk(top);
  return files.sort();
}

/** Stryker's `file:from-to` line ranges for the methods asked for. */
function mutateSpec(entry) {
  if (typeof entry === 'string') return [entry];
  const lines = readFileSync(entry.file, 'utf8').split('\n');
  return entry.methods.map((name) => {
    const start = lines.findIndex((l) =>
      new RegExp(`^(\\s+)(?:(?:private|async|static) )*${name}\\(`).test(l),
    );
    if (start < 0) throw new Error(`${entry.file}: no method ${name}`);
    const indent = /^\s*/.exec(lines[start])[0];
    const end = lines.findIndex((l, i) => i > start && l === `${indent}}`);
    if (end < 0) throw new Error(`${entry.file}: no end to method ${name}`);
    return `${entry.file}:${start + 1}-${end + 1}`;
  });
}

const root = process.cwd();
const concurrency = Number(process.env.NEON_MUTATE_CONCURRENCY ?? 2);
const { Stryker } = await import('@stryker-mutator/core');
// The sandbox's build step links node_modules from here (execa runs it without a shell).
process.env.NEON_MUTATE_ROOT = root;

/** One line of code, whitespace collapsed: how docs/mutation.md names an original or a replacement. */
const squash = (s) => s.replace(/\s+/g, ' ').trim();

/**
 * The equivalent mutants listed in docs/mutation.md: rows of
 * | `file` | `Mutator` | `original` | `replacement` | reason |
 * (a `|` inside code written `\|`; a cell ending in … matches by prefix).
 */
function listedEquivalents() {
  const doc = readFileSync(resolve(root, 'docs/mutation.md'), 'utf8');
  const text = doc.slice(Math.max(0, doc.indexOf('## Equivalent mutants')));
  const rows = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.length < 5) continue;
    const code = (c) => squash(c.replace(/^`|`$/g, ''));
    rows.push({
      file: code(cells[0]),
      mutator: code(cells[1]),
      original: code(cells[2]),
      replacement: code(cells[3]),
    });
  }
  return rows;
}

const same = (listed, actual) =>
  listed.endsWith('…') ? actual.startsWith(listed.slice(0, -1)) : listed === actual;

function originalText(sourceLines, { start, end }) {
  // The report's lines and columns are both 1-based.
  const lines = sourceLines.slice(start.line - 1, end.line);
  if (lines.length === 1) return lines[0].slice(start.column - 1, end.column - 1);
  lines[0] = lines[0].slice(start.column - 1);
  lines[lines.length - 1] = lines[lines.length - 1].slice(0, end.column - 1);
  return lines.join('\n');
}

const equivalents = listedEquivalents();
const summary = [];
const started = Date.now();

for (const m of selected) {
  const mutate = m.mutate.filter(
    (e) => only === undefined || (typeof e === 'string' ? e : e.file).includes(only),
  );
  if (!mutate.some((e) => typeof e !== 'string' || !e.startsWith('!'))) {
    console.error(`${m.name}: no file to mutate matches --only=${only}`);
    process.exit(2);
  }
  const tests = testFiles(testsOverride ?? m.tests);
  if (tests.length === 0) {
    console.error(`${m.name}: no test file matches ${(testsOverride ?? m.tests).join(' ')}`);
    process.exit(2);
  }
  const out = `reports/mutation/${m.name}${only ? `-${only.replace(/[^\w.-]/g, '_')}` : ''}`;
  mkdirSync(out, { recursive: true });
  const moduleStarted = Date.now();
  console.log(`\n=== ${m.name}: ${m.about}`);
  if (only !== undefined || testsOverride !== undefined)
    console.log(
      `    files: ${mutate.map((e) => (typeof e === 'string' ? e : e.file)).join(' ')}\n    tests: ${tests.join(' ')}`,
    );
  const stryker = new Stryker({
    mutate: mutate.flatMap(mutateSpec),
    testRunner: 'tap',
    tap: {
      testFiles: tests,
      nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '--import', 'tsx', '{{testFile}}'],
      forceBail: true,
    },
    coverageAnalysis: 'perTest',
    concurrency,
    timeoutMS: 5_000,
    // The first run of all the tests, unmutated: on a loaded machine a module's suites take longer than Stryker's default 5 minutes.
    dryRunTimeoutMinutes: 60,
    buildCommand: 'node scripts/mutate-sandbox.mjs',
    symlinkNodeModules: false,
    // The web app is left out of the sandbox but for its route table, which identity's reserved-name test reads.
    ignorePatterns: [
      'apps/web/*',
      '!apps/web/src',
      'apps/web/src/*',
      '!apps/web/src/App.tsx',
      'bench',
      'tests/e2e',
      'reports',
      'data',
      'test-results',
    ],
    tempDirName: '.stryker-tmp',
    reporters: ['progress', 'html', 'json'],
    htmlReporter: { fileName: `${out}/index.html` },
    jsonReporter: { fileName: `${out}/mutation.json` },
    incremental,
    incrementalFile: `${out}/incremental.json`,
    logLevel: 'info',
    fileLogLevel: 'off',
    allowConsoleColors: true,
  });
  const results = await stryker.runMutationTest();

  const count = (...statuses) => results.filter((r) => statuses.includes(r.status)).length;
  const killed = count('Killed', 'Timeout');
  const survivors = results.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage');
  const valid = killed + survivors.length;
  const sources = new Map();
  const rows = survivors
    .map((r) => {
      const file = relative(root, r.fileName);
      if (!sources.has(file))
        sources.set(file, readFileSync(resolve(root, file), 'utf8').split('\n'));
      const original = squash(originalText(sources.get(file), r.location));
      const replacement = squash(r.replacement ?? '');
      const listed = equivalents.some(
        (e) =>
          e.file === file &&
          e.mutator === r.mutatorName &&
          same(e.original, original) &&
          same(e.replacement, replacement),
      );
      return {
        file,
        line: r.location.start.line,
        mutator: r.mutatorName,
        status: r.status,
        original,
        replacement,
        listed,
      };
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const unexplained = rows.filter((r) => !r.listed);
  const score = valid === 0 ? 100 : (100 * killed) / valid;
  const minutes = (Date.now() - moduleStarted) / 60_000;
  summary.push({
    name: `${m.name}${only ? ` (${only})` : ''}${testsOverride ? ' (some tests)' : ''}`,
    mutants: valid,
    killed,
    survived: rows.length,
    equivalent: rows.length - unexplained.length,
    unexplained: unexplained.length,
    score,
    minutes,
  });

  const cell = (s) => `\`${s.length > 120 ? `${s.slice(0, 119)}…` : s}\``.replace(/\|/g, '\\|');
  writeFileSync(
    `${out}/survivors.md`,
    [
      `# ${m.name}: ${rows.length} surviving of ${valid} mutants (score ${score.toFixed(1)}%)`,
      '',
      'Rows marked NEW are not listed as equivalent in docs/mutation.md: kill them with a test, or list them there with a reason.',
      '',
      '| | file | line | mutator | original | replacement | status |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.listed ? 'equivalent' : 'NEW'} | \`${r.file}\` | ${r.line} | \`${r.mutator}\` | ${cell(r.original)} | ${cell(r.replacement)} | ${r.status} |`,
      ),
      '',
    ].join('\n'),
  );
  console.log(
    `\n${m.name}: score ${score.toFixed(1)}% (${killed}/${valid} killed), ${rows.length} survived, ` +
      `${unexplained.length} not listed as equivalent, ${minutes.toFixed(1)} min; see ${out}/survivors.md`,
  );
}

const table = [
  '| module | mutants | killed | survived | of which listed equivalent | unexplained | score | minutes |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...summary.map(
    (s) =>
      `| ${s.name} | ${s.mutants} | ${s.killed} | ${s.survived} | ${s.equivalent} | ${s.unexplained} | ${s.score.toFixed(1)}% | ${s.minutes.toFixed(1)} |`,
  ),
];
writeFileSync('reports/mutation/summary.md', `${table.join('\n')}\n`);
console.log(`\n${table.join('\n')}\n\ntotal ${((Date.now() - started) / 60_000).toFixed(1)} min`);
const failing = summary.filter((s) => s.score < THRESHOLD || s.unexplained > 0);
if (failing.length > 0) {
  console.log(
    `Below ${THRESHOLD}% or with unexplained survivors: ${failing.map((s) => s.name).join(', ')}`,
  );
  process.exit(1);
}
