import type { Queryable } from '@neon/db';
import type { JWK } from 'jose';

export interface SigningKeyRow {
  kid: string;
  public_jwk: JWK;
  private_key: string;
  encrypted: boolean;
  activates_at: Date;
}

export async function listKeys(q: Queryable): Promise<SigningKeyRow[]> {
  return q.query<SigningKeyRow>(
    `SELECT kid, public_jwk, private_key, encrypted, activates_at
       FROM identity.signing_keys ORDER BY activates_at`,
  );
}

export async function insertKey(
  q: Queryable,
  row: { kid: string; publicJwk: JWK; privateKey: string; encrypted: boolean; activatesAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.signing_keys (kid, public_jwk, private_key, encrypted, activates_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [row.kid, JSON.stringify(row.publicJwk), row.privateKey, row.encrypted, row.activatesAt],
  );
}

/** Replaces a key stored in clear with its encrypted form; a no-op once another replica did it. */
export async function encryptStoredKey(q: Queryable, kid: string, blob: string): Promise<void> {
  await q.query(
    `UPDATE identity.signing_keys SET private_key = $2, encrypted = true
      WHERE kid = $1 AND NOT encrypted`,
    [kid, blob],
  );
}

export async function deleteKeys(q: Queryable, kids: string[]): Promise<void> {
  if (kids.length === 0) return;
  await q.query(`DELETE FROM identity.signing_keys WHERE kid = ANY($1::text[])`, [kids]);
}

/** Serialises rotation across replicas for the rest of the transaction. */
export async function lockSchedule(q: Queryable): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('neon.identity.signing_keys'))`);
}
