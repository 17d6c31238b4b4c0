import type { Migration } from '@neon/db';

export const m0001: Migration = {
  id: '0001_accounts',
  // One statement per query: PGlite's extended protocol takes no batches.
  up: async (q) => {
    for (const statement of statements) await q.query(statement);
  },
};

const statements = [
  `CREATE TABLE identity.users (
      id uuid PRIMARY KEY,
      username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_]{3,25}$'),
      email text NOT NULL UNIQUE CHECK (email = lower(email)),
      password_hash text NOT NULL,
      display_name text NOT NULL,
      bio text NOT NULL DEFAULT '',
      avatar_url text,
      is_admin boolean NOT NULL DEFAULT false,
      suspended_at timestamptz,
      suspended_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  `CREATE TABLE identity.refresh_families (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      revoked_reason text
    )`,
  `CREATE INDEX refresh_families_user ON identity.refresh_families (user_id) WHERE revoked_at IS NULL`,
  `CREATE TABLE identity.refresh_tokens (
      id uuid PRIMARY KEY,
      family_id uuid NOT NULL REFERENCES identity.refresh_families (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      idle_expires_at timestamptz NOT NULL,
      rotated_at timestamptz,
      successor_id uuid,
      successor_box text
    )`,
  `CREATE INDEX refresh_tokens_family ON identity.refresh_tokens (family_id)`,
  `CREATE TABLE identity.signing_keys (
      kid text PRIMARY KEY,
      public_jwk jsonb NOT NULL,
      private_key text NOT NULL,
      encrypted boolean NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      activates_at timestamptz NOT NULL UNIQUE
    )`,
  `CREATE TABLE identity.audit_log (
      id uuid PRIMARY KEY,
      actor_id uuid,
      actor_username text NOT NULL,
      action text NOT NULL,
      target_id uuid,
      target_username text,
      detail jsonb NOT NULL DEFAULT '{}',
      at timestamptz NOT NULL DEFAULT now()
    )`,
  `CREATE INDEX audit_log_target ON identity.audit_log (target_id)`,
  `CREATE TABLE identity.outbox (
      id uuid PRIMARY KEY,
      type text NOT NULL,
      data jsonb NOT NULL,
      occurred_at timestamptz NOT NULL DEFAULT now()
    )`,
];
