import type { Queryable } from '@neon/db';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  display_name: string;
  bio: string;
  avatar_url: string | null;
  is_admin: boolean;
  suspended_at: Date | null;
  suspended_reason: string | null;
  /** When the owner followed the verification link sent to `email`; null until then. */
  email_verified_at: Date | null;
  created_at: Date;
}

const COLUMNS = `id, username, email, password_hash, display_name, bio, avatar_url, is_admin,
  suspended_at, suspended_reason, email_verified_at, created_at`;

export async function insertUser(
  q: Queryable,
  user: { id: string; username: string; email: string; passwordHash: string; isAdmin: boolean },
): Promise<UserRow> {
  const rows = await q.query<UserRow>(
    `INSERT INTO identity.users (id, username, email, password_hash, display_name, is_admin)
     VALUES ($1, $2, $3, $4, $2, $5) RETURNING ${COLUMNS}`,
    [user.id, user.username, user.email, user.passwordHash, user.isAdmin],
  );
  return rows[0]!;
}

export async function findById(q: Queryable, id: string): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(`SELECT ${COLUMNS} FROM identity.users WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function findByUsername(q: Queryable, username: string): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(`SELECT ${COLUMNS} FROM identity.users WHERE username = $1`, [
    username.toLowerCase(),
  ]);
  return rows[0] ?? null;
}

/** Accounts by id or username that are not suspended, in no particular order. */
export async function findActive(
  q: Queryable,
  ids: readonly string[],
  usernames: readonly string[],
): Promise<UserRow[]> {
  if (ids.length === 0 && usernames.length === 0) return [];
  return q.query<UserRow>(
    `SELECT ${COLUMNS} FROM identity.users
      WHERE (id = ANY($1::uuid[]) OR username = ANY($2::text[])) AND suspended_at IS NULL`,
    [[...ids], usernames.map((u) => u.toLowerCase())],
  );
}

export async function findByEmail(q: Queryable, email: string): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(`SELECT ${COLUMNS} FROM identity.users WHERE email = $1`, [
    email.trim().toLowerCase(),
  ]);
  return rows[0] ?? null;
}

/** Marks the address verified when the account still has it; false when it changed meanwhile. */
export async function setEmailVerified(q: Queryable, id: string, email: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `UPDATE identity.users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
      WHERE id = $1 AND email = $2 RETURNING id`,
    [id, email],
  );
  return rows.length > 0;
}

/** A confirmed change of address: the new one, verified by the link that was mailed to it. */
export async function setEmail(q: Queryable, id: string, email: string): Promise<void> {
  await q.query(
    `UPDATE identity.users SET email = $2, email_verified_at = now(), updated_at = now()
      WHERE id = $1`,
    [id, email],
  );
}

/** A login names an account by its username or its email. */
export async function findByLogin(q: Queryable, login: string): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(
    `SELECT ${COLUMNS} FROM identity.users WHERE username = $1 OR email = $1 LIMIT 1`,
    [login.trim().toLowerCase()],
  );
  return rows[0] ?? null;
}

export async function existing(
  q: Queryable,
  username: string,
  email: string,
): Promise<{ username: boolean; email: boolean }> {
  const rows = await q.query<{ username: string; email: string }>(
    `SELECT username, email FROM identity.users WHERE username = $1 OR email = $2`,
    [username, email],
  );
  return {
    username: rows.some((r) => r.username === username),
    email: rows.some((r) => r.email === email),
  };
}

export async function updateProfile(
  q: Queryable,
  id: string,
  patch: { displayName?: string; bio?: string; avatarUrl?: string | null },
): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(
    `UPDATE identity.users SET
       display_name = CASE WHEN $2 THEN $3 ELSE display_name END,
       bio = CASE WHEN $4 THEN $5 ELSE bio END,
       avatar_url = CASE WHEN $6 THEN $7 ELSE avatar_url END,
       updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      patch.displayName !== undefined,
      patch.displayName ?? '',
      patch.bio !== undefined,
      patch.bio ?? '',
      patch.avatarUrl !== undefined,
      patch.avatarUrl ?? null,
    ],
  );
  return rows[0] ?? null;
}

export async function setPasswordHash(q: Queryable, id: string, hash: string): Promise<void> {
  await q.query(`UPDATE identity.users SET password_hash = $2, updated_at = now() WHERE id = $1`, [
    id,
    hash,
  ]);
}

export async function setAdmin(q: Queryable, id: string, admin: boolean): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(
    `UPDATE identity.users SET is_admin = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, admin],
  );
  return rows[0] ?? null;
}

export async function setSuspension(
  q: Queryable,
  id: string,
  suspension: { reason: string | null } | null,
): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(
    `UPDATE identity.users SET
       suspended_at = CASE WHEN $2 THEN coalesce(suspended_at, now()) ELSE NULL END,
       suspended_reason = CASE WHEN $2 THEN $3 ELSE NULL END,
       updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, suspension !== null, suspension?.reason ?? null],
  );
  return rows[0] ?? null;
}

/** Newest first, keyset-paginated on the time-ordered id. */
export async function listUsers(
  q: Queryable,
  options: { search?: string | undefined; before?: string | undefined; limit: number },
): Promise<UserRow[]> {
  const pattern =
    options.search === undefined
      ? null
      : `%${options.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return q.query<UserRow>(
    `SELECT ${COLUMNS} FROM identity.users
      WHERE ($1::text IS NULL OR username LIKE $1 OR email LIKE $1)
        AND ($2::uuid IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [pattern, options.before ?? null, options.limit],
  );
}
