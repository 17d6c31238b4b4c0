import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteDb, type Db } from '@neon/db';

// initdb under WASM takes seconds; every embedded test would pay it. One
// freshly initialised data directory per PGlite release is kept as a tarball
// in the temporary folder, and each test starts from a copy of it.
const root = join(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..');
const version = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
).version;
const file = join(tmpdir(), `neon-pglite-${version}-initdb.tar`);

let made: Promise<void> | undefined;

/** Makes the tarball of a just-initialised data directory unless this PGlite release has one. */
function templateFile(): Promise<string> {
  made ??= (async () => {
    if (existsSync(file)) return;
    const pg = await PGlite.create('memory://');
    const tar = Buffer.from(await (await pg.dumpDataDir('none')).arrayBuffer());
    await pg.close();
    // Parallel test processes may each make one: the rename keeps the file whole.
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, tar);
    renameSync(partial, file);
  })();
  return made.then(() => file);
}

let template: Promise<Blob> | undefined;

/** An in-memory PGlite started from the template. */
export async function openPglite(): Promise<Db> {
  // One Blob per process: PGlite only reads it, so every database shares it.
  template ??= templateFile().then((f) => new Blob([readFileSync(f)]));
  return createPgliteDb({ template: await template });
}

/**
 * A new DATA_DIR for the embedded platform whose database folder already holds
 * an initialised cluster, as after a first start.
 */
export async function embeddedDataDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pgdata = join(dir, 'postgres');
  mkdirSync(pgdata);
  execFileSync('tar', ['-xf', await templateFile(), '-C', pgdata], { stdio: 'ignore' });
  return dir;
}
