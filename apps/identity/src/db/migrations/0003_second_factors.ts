import type { Migration } from '@neon/db';

export const m0003: Migration = {
  id: '0003_second_factors',
  up: async (q) => {
    for (const statement of statements) await q.query(statement);
  },
};

const statements = [
  // One authenticator app per account. `secret` is sealed (mfa/secret-box.ts);
  // `last_step` is the last TOTP time step accepted, so a code works once.
  `CREATE TABLE identity.totp_factors (
      user_id uuid PRIMARY KEY REFERENCES identity.users (id) ON DELETE CASCADE,
      secret text NOT NULL,
      confirmed_at timestamptz,
      last_step bigint,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  `CREATE TABLE identity.recovery_codes (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
      code_hash text NOT NULL UNIQUE,
      used_at timestamptz
    )`,
  `CREATE INDEX recovery_codes_user ON identity.recovery_codes (user_id)`,
  // What a password sign-in yields when a second factor is due: not a session.
  `CREATE TABLE identity.mfa_challenges (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      used_at timestamptz
    )`,
  `CREATE INDEX mfa_challenges_expiry ON identity.mfa_challenges (expires_at)`,
  // When the session last checked a second factor (step-up), carried in its access tokens.
  `ALTER TABLE identity.refresh_families ADD COLUMN step_up_at timestamptz`,
];
