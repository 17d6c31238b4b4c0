/**
 * What a page's first visit downloads from the web build, uncompressed and as the
 * gateway sends it to a browser that accepts brotli (or only gzip). Run after
 * `npm run build:web`: `npx tsx apps/web/build/transfer.ts [dist]`.
 *
 * A page is its HTML, the scripts and styles the HTML names and every chunk those
 * import statically, plus its route's chunk and everything that loads, lazily or not
 * (on a live channel: the page, chat, the player and hls.js).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'));

async function size(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

/** The chunks a chunk loads: `from"./x.js"` and `import"./x.js"`, and `import("./x.js")` if lazy. */
async function imports(file: string, lazy: boolean): Promise<string[]> {
  const text = await readFile(join(dist, 'assets', file), 'utf8');
  const pattern = lazy
    ? /(?:from|import)\(?\s*"\.\/([^"]+\.js)"/g
    : /(?:from|import)\s*"\.\/([^"]+\.js)"/g;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

async function closure(
  roots: string[],
  lazy: boolean,
  seen = new Set<string>(),
): Promise<Set<string>> {
  const todo = [...roots];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    todo.push(...(await imports(file, lazy)));
  }
  return seen;
}

const html = await readFile(join(dist, 'index.html'), 'utf8');
const named = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]!);
const entryScripts = named.filter((f) => f.endsWith('.js'));
const styles = named.filter((f) => f.endsWith('.css'));
const chunk = async (prefix: string): Promise<string> => {
  const found = (await readdir(join(dist, 'assets'))).find(
    (f) => f.startsWith(`${prefix}-`) && f.endsWith('.js'),
  );
  if (!found) throw new Error(`no ${prefix} chunk in ${dist}`);
  return found;
};

// The home page needs only the entry; a live channel lazily adds its page, chat and player (hls.js).
const home = await closure(entryScripts, false);
const pages: Record<string, string[]> = {
  home: [...home],
  'live channel': [...(await closure([await chunk('Channel')], true, new Set(home)))],
};

interface Row {
  raw: number;
  br: number;
  gzip: number;
}
async function measure(files: string[]): Promise<Row> {
  const row: Row = { raw: 0, br: 0, gzip: 0 };
  for (const file of files) {
    const raw = (await size(file))!;
    row.raw += raw;
    row.br += (await size(`${file}.br`)) ?? raw;
    row.gzip += (await size(`${file}.gz`)) ?? raw;
  }
  return row;
}

const kib = (n: number): string => (n / 1024).toFixed(1);
console.log('| page | what | uncompressed KiB | gzip KiB | brotli KiB |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const [page, scripts] of Object.entries(pages)) {
  const js = await measure(scripts.map((f) => join(dist, 'assets', f)));
  const all = await measure([
    join(dist, 'index.html'),
    ...styles.map((f) => join(dist, 'assets', f)),
    ...scripts.map((f) => join(dist, 'assets', f)),
  ]);
  console.log(`| ${page} | JavaScript | ${kib(js.raw)} | ${kib(js.gzip)} | ${kib(js.br)} |`);
  console.log(
    `| ${page} | HTML, CSS and JS | ${kib(all.raw)} | ${kib(all.gzip)} | ${kib(all.br)} |`,
  );
}
