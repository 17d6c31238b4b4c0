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

export async function deleteKeys(q: Queryable, kids: string[]): Promise<void> {
  if (kids.length === 0) return;
  await q.query(`DELETE FROM identity.signing_keys WHERE kid = ANY($1::text[])`, [kids]);
}

/** Serialises rotation across replicas for the rest of the transaction. */
export async function lockSchedule(q: Queryable): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('neon.identity.signing_keys'))`);
}
