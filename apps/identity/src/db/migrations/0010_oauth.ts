import type { Migration } from '@neon/db';

export const m0010: Migration = {
  id: '0010_oauth',
  up: async (q) => {
    // Third-party applications. A confidential client's secret is kept as its
    // SHA-256 only (256 random bits: no need for a slow hash), shown once.
    await q.query(`CREATE TABLE identity.oauth_clients (
        id text PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES identity.users(id) ON DELETE CASCADE,
        name text NOT NULL,
        redirect_uris text[] NOT NULL,
        confidential boolean NOT NULL,
        secret_hash text,
        secret_rotated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX oauth_clients_owner ON identity.oauth_clients (owner_id, created_at)`,
    );
    // A user's authorization of an application: what the consent screen granted.
    // Its id is the `sid` of every token issued under it, so revoking it makes the
    // gateway refuse them at once (identity.session.revoked.v1).
    await q.query(`CREATE TABLE identity.oauth_grants (
        id uuid PRIMARY KEY,
        client_id text NOT NULL REFERENCES identity.oauth_clients(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES identity.users(id) ON DELETE CASCADE,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await q.query(`CREATE UNIQUE INDEX oauth_grants_live ON identity.oauth_grants (user_id, client_id)
        WHERE revoked_at IS NULL`);
    await q.query(`CREATE TABLE identity.oauth_codes (
        code_hash text PRIMARY KEY,
        grant_id uuid NOT NULL REFERENCES identity.oauth_grants(id) ON DELETE CASCADE,
        client_id text NOT NULL,
        scopes text[] NOT NULL,
        redirect_uri text NOT NULL,
        code_challenge text NOT NULL,
        code_challenge_method text NOT NULL,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz
      )`);
    await q.query(`CREATE INDEX oauth_codes_expiry ON identity.oauth_codes (expires_at)`);
    await q.query(`CREATE TABLE identity.oauth_refresh_tokens (
        token_hash text PRIMARY KEY,
        grant_id uuid NOT NULL REFERENCES identity.oauth_grants(id) ON DELETE CASCADE,
        scopes text[] NOT NULL,
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz
      )`);
    await q.query(`CREATE INDEX oauth_refresh_grant ON identity.oauth_refresh_tokens (grant_id)`);
  },
};
