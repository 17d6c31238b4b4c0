import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/** OWASP's argon2id recommendation: 19 MiB, two passes, one lane. */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, verified against when the login names no
 * account, so that an unknown user costs the same time as a wrong password.
 */
export function dummyHash(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64url'));
}
