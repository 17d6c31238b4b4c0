import type { Queryable } from '@neon/db';

export interface RefreshRow {
  id: string;
  family_id: string;
  user_id: string;
  created_at: Date;
  idle_expires_at: Date;
  rotated_at: Date | null;
  successor_id: string | null;
  successor_box: string | null;
  family_expires_at: Date;
  family_revoked_at: Date | null;
  successor_rotated_at: Date | null;
}

export async function createFamily(
  q: Queryable,
  family: { id: string; userId: string; expiresAt: Date; userAgent?: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.refresh_families (id, user_id, expires_at, user_agent)
     VALUES ($1, $2, $3, $4)`,
    [family.id, family.userId, family.expiresAt, family.userAgent ?? null],
  );
}

/** Stamps the session's last refresh, for the list of sessions. */
export async function touchFamily(q: Queryable, familyId: string): Promise<void> {
  await q.query(`UPDATE identity.refresh_families SET last_used_at = now() WHERE id = $1`, [
    familyId,
  ]);
}

export interface LiveSessionRow {
  id: string;
  user_agent: string | null;
  created_at: Date;
  last_used_at: Date;
}

/**
 * A user's sessions still able to refresh: not ended, within their absolute
 * life, and holding a current token not idle too long. Newest use first.
 */
export async function liveFamilies(q: Queryable, userId: string): Promise<LiveSessionRow[]> {
  return q.query<LiveSessionRow>(
    `SELECT f.id, f.user_agent, f.created_at, COALESCE(f.last_used_at, f.created_at) AS last_used_at
       FROM identity.refresh_families f
      WHERE f.user_id = $1 AND f.revoked_at IS NULL AND f.expires_at > now()
        AND EXISTS (SELECT 1 FROM identity.refresh_tokens t
                     WHERE t.family_id = f.id AND t.rotated_at IS NULL AND t.idle_expires_at > now())
      ORDER BY COALESCE(f.last_used_at, f.created_at) DESC, f.id DESC`,
    [userId],
  );
}

/** Stamps the session's last second-factor check (see mfa/). */
export async function setStepUp(q: Queryable, familyId: string, at: Date): Promise<void> {
  await q.query(`UPDATE identity.refresh_families SET step_up_at = $2 WHERE id = $1`, [
    familyId,
    at,
  ]);
}

export async function insertToken(
  q: Queryable,
  token: { id: string; familyId: string; hash: string; idleExpiresAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.refresh_tokens (id, family_id, token_hash, idle_expires_at)
     VALUES ($1, $2, $3, $4)`,
    [token.id, token.familyId, token.hash, token.idleExpiresAt],
  );
}

/** The token and its family, locked for the rest of the transaction so concurrent refreshes queue. */
export async function findForUpdate(q: Queryable, hash: string): Promise<RefreshRow | null> {
  const rows = await q.query<RefreshRow>(
    `SELECT t.id, t.family_id, f.user_id, t.created_at, t.idle_expires_at, t.rotated_at,
            t.successor_id, t.successor_box, f.expires_at AS family_expires_at,
            f.revoked_at AS family_revoked_at, s.rotated_at AS successor_rotated_at
       FROM identity.refresh_tokens t
       JOIN identity.refresh_families f ON f.id = t.family_id
       LEFT JOIN identity.refresh_tokens s ON s.id = t.successor_id
      WHERE t.token_hash = $1
      FOR UPDATE OF t, f`,
    [hash],
  );
  return rows[0] ?? null;
}

export async function markRotated(
  q: Queryable,
  id: string,
  successor: { id: string; box: string },
): Promise<void> {
  await q.query(
    `UPDATE identity.refresh_tokens SET rotated_at = now(), successor_id = $2, successor_box = $3
      WHERE id = $1`,
    [id, successor.id, successor.box],
  );
}

/** True when this call ended the family (it was live). */
export async function revokeFamily(
  q: Queryable,
  familyId: string,
  reason: string,
): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `UPDATE identity.refresh_families SET revoked_at = now(), revoked_reason = $2
      WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
    [familyId, reason],
  );
  return rows.length > 0;
}

/** Every live session of a user, except `keep` (the family of the caller's own session). */
export async function revokeUserFamilies(
  q: Queryable,
  userId: string,
  reason: string,
  keep: string | null = null,
): Promise<number> {
  return (await endUserFamilies(q, userId, reason, keep)).length;
}

/** Every session of a user not ended yet, except `keep`; the ids of those this ended. */
export async function endUserFamilies(
  q: Queryable,
  userId: string,
  reason: string,
  keep: string | null = null,
): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `UPDATE identity.refresh_families SET revoked_at = now(), revoked_reason = $2
      WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3)
      RETURNING id`,
    [userId, reason, keep],
  );
  return rows.map((r) => r.id);
}

export async function familyOf(
  q: Queryable,
  hash: string,
): Promise<{ family_id: string; user_id: string } | null> {
  const rows = await q.query<{ family_id: string; user_id: string }>(
    `SELECT t.family_id, f.user_id FROM identity.refresh_tokens t
       JOIN identity.refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1`,
    [hash],
  );
  return rows[0] ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The session `familyId` when it is `userId`'s. */
export async function familyOfUser(
  q: Queryable,
  familyId: string,
  userId: string,
): Promise<{ family_id: string; user_id: string } | null> {
  if (!UUID.test(familyId)) return null;
  const rows = await q.query<{ family_id: string; user_id: string }>(
    `SELECT id AS family_id, user_id FROM identity.refresh_families
      WHERE id = $1::uuid AND user_id = $2`,
    [familyId, userId],
  );
  return rows[0] ?? null;
}
