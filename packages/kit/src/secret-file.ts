import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A secret that protects data at rest: the configured one, else the one in
 * `file`, created on first start (32 random bytes, readable by the owner
 * only) so a deployment that set none still keeps nothing in clear. Two
 * processes starting at once agree on whichever file was written first.
 */
export function loadSecretFile(configured: string | undefined, file: string): string {
  if (configured) return configured;
  const existing = readSecret(file);
  if (existing !== null) return existing;
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = readSecret(file);
    if (raced !== null) return raced;
    throw err;
  }
  return secret;
}

function readSecret(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
