import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The 10,000 most common passwords (SecLists, in rank order), shipped beside
 * the service. Found through the package rather than this file's own place, so
 * the compiled server (dist/, scripts/build.mjs) finds it too.
 */
export const COMMON_PASSWORDS_FILE = createRequire(import.meta.url).resolve(
  '@neon/identity/assets/common-passwords.txt',
);

export function loadCommonPasswords(file = COMMON_PASSWORDS_FILE): ReadonlySet<string> {
  const set = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const word = line.trim();
    if (word) set.add(word.toLowerCase());
  }
  return set;
}

/**
 * Whether a password is too easy to guess: in the common list (ignoring
 * case, so `Password1` counts as `password1`) or the account's own name.
 */
export function isTooCommon(
  common: ReadonlySet<string>,
  password: string,
  account: { username: string; email: string },
): boolean {
  const p = password.toLowerCase();
  return common.has(p) || p === account.username.toLowerCase() || p === account.email.toLowerCase();
}
