import type { Queryable } from '@neon/db';

export interface ClientRow {
  id: string;
  owner_id: string;
  name: string;
  redirect_uris: string[];
  confidential: boolean;
  secret_hash: string | null;
  secret_rotated_at: Date | null;
  created_at: Date;
}

export interface GrantRow {
  id: string;
  client_id: string;
  user_id: string;
  scopes: string[];
  created_at: Date;
  revoked_at: Date | null;
}

export interface CodeRow {
  code_hash: string;
  grant_id: string;
  client_id: string;
  scopes: string[];
  redirect_uri: string;
  code_challenge: string;
  code_challenge_method: string;
  expires_at: Date;
  consumed_at: Date | null;
  user_id: string;
  grant_revoked_at: Date | null;
}

export interface RefreshRow {
  token_hash: string;
  grant_id: string;
  scopes: string[];
  expires_at: Date;
  rotated_at: Date | null;
  client_id: string;
  user_id: string;
  grant_revoked_at: Date | null;
}

const CLIENT_COLUMNS = `id, owner_id, name, redirect_uris, confidential, secret_hash, secret_rotated_at, created_at`;

export async function insertClient(
  q: Queryable,
  c: {
    id: string;
    ownerId: string;
    name: string;
    redirectUris: string[];
    confidential: boolean;
    secretHash: string | null;
  },
): Promise<ClientRow> {
  const rows = await q.query<ClientRow>(
    `INSERT INTO identity.oauth_clients (id, owner_id, name, redirect_uris, confidential, secret_hash)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${CLIENT_COLUMNS}`,
    [c.id, c.ownerId, c.name, c.redirectUris, c.confidential, c.secretHash],
  );
  return rows[0]!;
}

export async function findClient(q: Queryable, id: string): Promise<ClientRow | null> {
  const rows = await q.query<ClientRow>(
    `SELECT ${CLIENT_COLUMNS} FROM identity.oauth_clients WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export async function clientsOf(q: Queryable, ownerId: string): Promise<ClientRow[]> {
  return q.query<ClientRow>(
    `SELECT ${CLIENT_COLUMNS} FROM identity.oauth_clients WHERE owner_id = $1 ORDER BY created_at, id`,
    [ownerId],
  );
}

export async function updateClient(
  q: Queryable,
  id: string,
  ownerId: string,
  change: { name?: string | undefined; redirectUris?: string[] | undefined },
): Promise<ClientRow | null> {
  const rows = await q.query<ClientRow>(
    `UPDATE identity.oauth_clients
        SET name = COALESCE($3, name), redirect_uris = COALESCE($4, redirect_uris)
      WHERE id = $1 AND owner_id = $2 RETURNING ${CLIENT_COLUMNS}`,
    [id, ownerId, change.name ?? null, change.redirectUris ?? null],
  );
  return rows[0] ?? null;
}

export async function setSecret(
  q: Queryable,
  id: string,
  ownerId: string,
  secretHash: string,
): Promise<ClientRow | null> {
  const rows = await q.query<ClientRow>(
    `UPDATE identity.oauth_clients SET secret_hash = $3, secret_rotated_at = now()
      WHERE id = $1 AND owner_id = $2 AND confidential RETURNING ${CLIENT_COLUMNS}`,
    [id, ownerId, secretHash],
  );
  return rows[0] ?? null;
}

/** Deletes the client (its grants, codes and refresh tokens go with it); the ids of its live grants. */
export async function deleteClient(
  q: Queryable,
  id: string,
  ownerId: string,
): Promise<{ deleted: boolean; grantIds: string[] }> {
  const grants = await q.query<{ id: string }>(
    `SELECT g.id FROM identity.oauth_grants g JOIN identity.oauth_clients c ON c.id = g.client_id
      WHERE c.id = $1 AND c.owner_id = $2 AND g.revoked_at IS NULL`,
    [id, ownerId],
  );
  const rows = await q.query<{ id: string }>(
    `DELETE FROM identity.oauth_clients WHERE id = $1 AND owner_id = $2 RETURNING id`,
    [id, ownerId],
  );
  return { deleted: rows.length > 0, grantIds: grants.map((g) => g.id) };
}

/** The user's live grant of this client, locked, or null. */
export async function liveGrantForUpdate(
  q: Queryable,
  userId: string,
  clientId: string,
): Promise<GrantRow | null> {
  const rows = await q.query<GrantRow>(
    `SELECT id, client_id, user_id, scopes, created_at, revoked_at FROM identity.oauth_grants
      WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL FOR UPDATE`,
    [userId, clientId],
  );
  return rows[0] ?? null;
}

export async function insertGrant(
  q: Queryable,
  g: { id: string; clientId: string; userId: string; scopes: string[] },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.oauth_grants (id, client_id, user_id, scopes) VALUES ($1, $2, $3, $4)`,
    [g.id, g.clientId, g.userId, g.scopes],
  );
}

export async function setGrantScopes(q: Queryable, id: string, scopes: string[]): Promise<void> {
  await q.query(`UPDATE identity.oauth_grants SET scopes = $2 WHERE id = $1`, [id, scopes]);
}

/** Revokes a live grant and drops its codes and refresh tokens; false when it was not live. */
export async function revokeGrant(
  q: Queryable,
  id: string,
  reason: string,
  userId?: string,
): Promise<{ userId: string; clientId: string } | null> {
  const rows = await q.query<{ user_id: string; client_id: string }>(
    `UPDATE identity.oauth_grants SET revoked_at = now(), revoked_reason = $2
      WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3::uuid)
      RETURNING user_id, client_id`,
    [id, reason, userId ?? null],
  );
  if (rows.length === 0) return null;
  await q.query(`DELETE FROM identity.oauth_refresh_tokens WHERE grant_id = $1`, [id]);
  await q.query(`DELETE FROM identity.oauth_codes WHERE grant_id = $1`, [id]);
  return { userId: rows[0]!.user_id, clientId: rows[0]!.client_id };
}

export interface ConnectedRow {
  id: string;
  client_id: string;
  name: string;
  scopes: string[];
  created_at: Date;
}

export async function grantsOf(q: Queryable, userId: string): Promise<ConnectedRow[]> {
  return q.query<ConnectedRow>(
    `SELECT g.id, g.client_id, c.name, g.scopes, g.created_at
       FROM identity.oauth_grants g JOIN identity.oauth_clients c ON c.id = g.client_id
      WHERE g.user_id = $1 AND g.revoked_at IS NULL ORDER BY g.created_at DESC, g.id`,
    [userId],
  );
}

export async function insertCode(
  q: Queryable,
  c: {
    hash: string;
    grantId: string;
    clientId: string;
    scopes: string[];
    redirectUri: string;
    challenge: string;
    method: string;
    expiresAt: Date;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.oauth_codes
       (code_hash, grant_id, client_id, scopes, redirect_uri, code_challenge, code_challenge_method, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.hash, c.grantId, c.clientId, c.scopes, c.redirectUri, c.challenge, c.method, c.expiresAt],
  );
  // Codes live a minute: clear out the long-expired ones as new ones come.
  await q.query(`DELETE FROM identity.oauth_codes WHERE expires_at < now() - interval '1 hour'`);
}

export async function findCode(q: Queryable, hash: string): Promise<CodeRow | null> {
  const rows = await q.query<CodeRow>(
    `SELECT k.code_hash, k.grant_id, k.client_id, k.scopes, k.redirect_uri, k.code_challenge,
            k.code_challenge_method, k.expires_at, k.consumed_at, g.user_id,
            g.revoked_at AS grant_revoked_at
       FROM identity.oauth_codes k JOIN identity.oauth_grants g ON g.id = k.grant_id
      WHERE k.code_hash = $1`,
    [hash],
  );
  return rows[0] ?? null;
}

/** Marks the code used; false when it already was (a replay, or a concurrent exchange). */
export async function consumeCode(q: Queryable, hash: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE identity.oauth_codes SET consumed_at = now()
      WHERE code_hash = $1 AND consumed_at IS NULL RETURNING code_hash`,
    [hash],
  );
  return rows.length > 0;
}

export async function insertRefresh(
  q: Queryable,
  r: { hash: string; grantId: string; scopes: string[]; expiresAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO identity.oauth_refresh_tokens (token_hash, grant_id, scopes, expires_at)
     VALUES ($1, $2, $3, $4)`,
    [r.hash, r.grantId, r.scopes, r.expiresAt],
  );
}

export async function findRefresh(q: Queryable, hash: string): Promise<RefreshRow | null> {
  const rows = await q.query<RefreshRow>(
    `SELECT r.token_hash, r.grant_id, r.scopes, r.expires_at, r.rotated_at, g.client_id, g.user_id,
            g.revoked_at AS grant_revoked_at
       FROM identity.oauth_refresh_tokens r JOIN identity.oauth_grants g ON g.id = r.grant_id
      WHERE r.token_hash = $1`,
    [hash],
  );
  return rows[0] ?? null;
}

/** Marks the refresh token rotated; false when it already was. */
export async function rotateRefresh(q: Queryable, hash: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE identity.oauth_refresh_tokens SET rotated_at = now()
      WHERE token_hash = $1 AND rotated_at IS NULL RETURNING token_hash`,
    [hash],
  );
  return rows.length > 0;
}
