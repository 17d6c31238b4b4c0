import type { Queryable } from '@neon/db';

export interface TotpRow {
  user_id: string;
  secret: string;
  confirmed_at: Date | null;
  last_step: string | null;
}

export async function findTotp(q: Queryable, userId: string): Promise<TotpRow | null> {
  const rows = await q.query<TotpRow>(
    `SELECT user_id, secret, confirmed_at, last_step FROM identity.totp_factors WHERE user_id = $1`,
    [userId],
  );
  return rows[0] ?? null;
}

/** Starts (or restarts) an unconfirmed enrolment; never touches a confirmed one. */
export async function putPendingTotp(
  q: Queryable,
  userId: string,
  secret: string,
): Promise<boolean> {
  const rows = await q.query<{ user_id: string }>(
    `INSERT INTO identity.totp_factors (user_id, secret) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET secret = $2, created_at = now(), last_step = NULL
       WHERE totp_factors.confirmed_at IS NULL
     RETURNING user_id`,
    [userId, secret],
  );
  return rows.length > 0;
}

export async function confirmTotp(q: Queryable, userId: string, step: number): Promise<boolean> {
  const rows = await q.query<{ user_id: string }>(
    `UPDATE identity.totp_factors SET confirmed_at = now(), last_step = $2
      WHERE user_id = $1 AND confirmed_at IS NULL RETURNING user_id`,
    [userId, step],
  );
  return rows.length > 0;
}

/** Records the step a code was accepted at; false when another request used it (or a later one) first. */
export async function useStep(q: Queryable, userId: string, step: number): Promise<boolean> {
  const rows = await q.query<{ user_id: string }>(
    `UPDATE identity.totp_factors SET last_step = $2
      WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)
      RETURNING user_id`,
    [userId, step],
  );
  return rows.length > 0;
}

export async function deleteFactors(q: Queryable, userId: string): Promise<void> {
  await q.query(`DELETE FROM identity.totp_factors WHERE user_id = $1`, [userId]);
  await q.query(`DELETE FROM identity.recovery_codes WHERE user_id = $1`, [userId]);
}

export async function replaceRecoveryCodes(
  q: Queryable,
  userId: string,
  codes: { id: string; hash: string }[],
): Promise<void> {
  await q.query(`DELETE FROM identity.recovery_codes WHERE user_id = $1`, [userId]);
  for (const c of codes)
    await q.query(
      `INSERT INTO identity.recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)`,
      [c.id, userId, c.hash],
    );
}

/** Spends a recovery code; false when it is not this user's or was used already. */
export async function useRecoveryCode(
  q: Queryable,
  userId: string,
  hash: string,
): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `UPDATE identity.recovery_codes SET used_at = now()
      WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id`,
    [userId, hash],
  );
  return rows.length > 0;
}

export async function recoveryCodesLeft(q: Queryable, userId: string): Promise<number> {
  const rows = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM identity.recovery_codes WHERE user_id = $1 AND used_at IS NULL`,
    [userId],
  );
  return rows[0]?.n ?? 0;
}

export async function insertChallenge(
  q: Queryable,
  c: { id: string; userId: string; hash: string; expiresAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.mfa_challenges (id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
    [c.id, c.userId, c.hash, c.expiresAt],
  );
  // Spent and expired challenges are of no use: drop them now and then.
  if (Math.random() < 0.05)
    await q.query(
      `DELETE FROM identity.mfa_challenges WHERE expires_at < now() - interval '1 hour'`,
    );
}

export interface ChallengeRow {
  id: string;
  user_id: string;
  expires_at: Date;
  attempts: number;
  used_at: Date | null;
}

/** Counts an attempt on the challenge and returns it as it was before. */
export async function attemptChallenge(q: Queryable, hash: string): Promise<ChallengeRow | null> {
  const rows = await q.query<ChallengeRow>(
    `UPDATE identity.mfa_challenges SET attempts = attempts + 1 WHERE token_hash = $1
     RETURNING id, user_id, expires_at, attempts - 1 AS attempts, used_at`,
    [hash],
  );
  return rows[0] ?? null;
}

export async function spendChallenge(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `UPDATE identity.mfa_challenges SET used_at = now() WHERE id = $1 AND used_at IS NULL RETURNING id`,
    [id],
  );
  return rows.length > 0;
}

/** The session's last second-factor check, when the session is the user's. */
export async function sessionStepUp(
  q: Queryable,
  userId: string,
  sessionId: string,
): Promise<{ step_up_at: Date | null } | null> {
  const rows = await q.query<{ step_up_at: Date | null }>(
    `SELECT step_up_at FROM identity.refresh_families
      WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
    [sessionId, userId],
  );
  return rows[0] ?? null;
}

export async function markStepUp(
  q: Queryable,
  userId: string,
  sessionId: string,
): Promise<Date | null> {
  const rows = await q.query<{ step_up_at: Date }>(
    `UPDATE identity.refresh_families SET step_up_at = now()
      WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING step_up_at`,
    [sessionId, userId],
  );
  return rows[0]?.step_up_at ?? null;
}
