import type { Queryable } from '@neon/db';

export type EmailTokenPurpose = 'password-reset' | 'verify-email' | 'change-email';

export interface EmailTokenRow {
  id: string;
  user_id: string;
  purpose: EmailTokenPurpose;
  email: string;
  expires_at: Date;
  used_at: Date | null;
}

export async function insertToken(
  q: Queryable,
  token: {
    id: string;
    userId: string;
    purpose: EmailTokenPurpose;
    hash: string;
    email: string;
    expiresAt: Date;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.email_tokens (id, user_id, purpose, token_hash, email, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [token.id, token.userId, token.purpose, token.hash, token.email, token.expiresAt],
  );
}

/** The token, locked for the rest of the transaction: two uses of one link queue, one wins. */
export async function findForUpdate(
  q: Queryable,
  hash: string,
  purpose: EmailTokenPurpose,
): Promise<EmailTokenRow | null> {
  const rows = await q.query<EmailTokenRow>(
    `SELECT id, user_id, purpose, email, expires_at, used_at FROM identity.email_tokens
      WHERE token_hash = $1 AND purpose = $2 FOR UPDATE`,
    [hash, purpose],
  );
  return rows[0] ?? null;
}

/** Uses up every unused token of the user for `purpose`: one reset ends every other link. */
export async function useAll(
  q: Queryable,
  userId: string,
  purpose: EmailTokenPurpose,
): Promise<void> {
  await q.query(
    `UPDATE identity.email_tokens SET used_at = now()
      WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`,
    [userId, purpose],
  );
}

/** Tokens that can no longer be used are of no further use: dropped now and then. */
export async function forgetOld(q: Queryable): Promise<void> {
  await q.query(`DELETE FROM identity.email_tokens WHERE expires_at < now() - interval '7 days'`);
}
