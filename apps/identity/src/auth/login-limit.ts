import type { Queryable } from '@neon/db';
import { AppError } from '@neon/kit';

/**
 * Failed logins counted per account, whatever address they come from: the
 * gateway's per-address limit does nothing against one account guessed at
 * from many addresses. Kept in the identity schema, so every replica and
 * both shapes share it.
 *
 * - Within `windowMs` of the first failure, from the `slowAfter`th failure
 *   on, each further attempt must wait (1 s, doubling per failure, at most
 *   the window) after the last one; earlier attempts answer 429 without the
 *   password being looked at.
 * - At `lockAfter` failures the account is locked for `lockMs`: even the
 *   right password is refused until then.
 * - A successful login clears the count.
 *
 * A login no account has is counted under that login (`accountKey`): were
 * only real accounts ever slowed, the 429 would tell which logins exist.
 */
export interface LoginLimitRules {
  windowMs: number;
  slowAfter: number;
  lockAfter: number;
  lockMs: number;
}

export const DEFAULT_LOGIN_LIMIT: LoginLimitRules = {
  windowMs: 15 * 60_000,
  slowAfter: 5,
  lockAfter: 10,
  lockMs: 15 * 60_000,
};

/** Whose failures an attempt counts towards: the account, or the login tried when none has it. */
export function accountKey(userId: string | undefined, login: string): string {
  return userId ?? `login:${login.trim().toLowerCase()}`;
}

interface FailureRow {
  failures: number;
  first_failed_at: Date;
  last_failed_at: Date;
  locked_until: Date | null;
}

const retryAfter = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

function locked(untilMs: number, now: number): AppError {
  return new AppError(
    'AUTH_ACCOUNT_LOCKED',
    'Too many wrong passwords for this account; it is locked for a while.',
    { headers: { 'retry-after': retryAfter(untilMs - now) } },
  );
}

/** How long after the last failure the next attempt must wait, once slowed. */
function delayMs(failures: number, rules: LoginLimitRules): number {
  if (failures < rules.slowAfter) return 0;
  return Math.min(1000 * 2 ** (failures - rules.slowAfter), rules.windowMs);
}

/** Throws when the account may not try a password now. */
export async function assertMayTry(
  q: Queryable,
  account: string,
  rules: LoginLimitRules,
  now = Date.now(),
): Promise<void> {
  const rows = await q.query<FailureRow>(
    `SELECT failures, first_failed_at, last_failed_at, locked_until
       FROM identity.login_failures WHERE account = $1`,
    [account],
  );
  const row = rows[0];
  if (!row) return;
  const lockedUntil = row.locked_until?.getTime() ?? 0;
  if (lockedUntil > now) throw locked(lockedUntil, now);
  if (row.first_failed_at.getTime() + rules.windowMs <= now) return;
  const wait = row.last_failed_at.getTime() + delayMs(row.failures, rules) - now;
  if (wait > 0) {
    throw new AppError(
      'AUTH_LOGIN_THROTTLED',
      'Several wrong passwords for this account; wait a moment before trying again.',
      { headers: { 'retry-after': retryAfter(wait) } },
    );
  }
}

/**
 * Counts a wrong password; a count older than the window (or a lock that
 * ran out) starts again at one. Returns true when this failure locked the
 * account.
 */
export async function recordFailure(
  q: Queryable,
  account: string,
  rules: LoginLimitRules,
  now = Date.now(),
): Promise<boolean> {
  const at = new Date(now);
  const rows = await q.query<{ failures: number; locked_until: Date | null }>(
    `INSERT INTO identity.login_failures (account, failures, first_failed_at, last_failed_at)
     VALUES ($1, 1, $2, $2)
     ON CONFLICT (account) DO UPDATE SET
       failures = CASE
         WHEN login_failures.first_failed_at <= $3 OR login_failures.locked_until <= $2 THEN 1
         ELSE login_failures.failures + 1 END,
       first_failed_at = CASE
         WHEN login_failures.first_failed_at <= $3 OR login_failures.locked_until <= $2 THEN $2
         ELSE login_failures.first_failed_at END,
       last_failed_at = $2,
       locked_until = CASE
         WHEN login_failures.locked_until <= $2 THEN NULL
         ELSE login_failures.locked_until END
     RETURNING failures, locked_until`,
    [account, at, new Date(now - rules.windowMs)],
  );
  // Counts of guessed logins would otherwise pile up: drop what no longer counts, now and then.
  if (Math.random() < 0.02) await forgetStale(q, rules, now);
  const row = rows[0]!;
  if (row.failures < rules.lockAfter || row.locked_until !== null) return false;
  await q.query(`UPDATE identity.login_failures SET locked_until = $2 WHERE account = $1`, [
    account,
    new Date(now + rules.lockMs),
  ]);
  return true;
}

export async function clearFailures(q: Queryable, account: string): Promise<void> {
  await q.query(`DELETE FROM identity.login_failures WHERE account = $1`, [account]);
}

/** Removes counts past their window whose lock (if any) has run out. */
export async function forgetStale(
  q: Queryable,
  rules: LoginLimitRules,
  now = Date.now(),
): Promise<void> {
  await q.query(
    `DELETE FROM identity.login_failures
      WHERE last_failed_at < $1 AND (locked_until IS NULL OR locked_until < $2)`,
    [new Date(now - rules.windowMs), new Date(now)],
  );
}
