import type { Migration } from '@neon/db';

export const m0013: Migration = {
  id: '0013_mail',
  up: async (q) => {
    for (const statement of statements) await q.query(statement);
  },
};

const statements = [
  `ALTER TABLE identity.users ADD COLUMN email_verified_at timestamptz`,
  // The mail queue (mail/): a row per mail, sent by the worker off the request
  // path. A request that must not reveal whether an account exists (password
  // reset) queues only the address (`user_id` null, no subject yet); the
  // worker resolves it and writes the mail, or drops the row. `content` is
  // the body sealed under SIGNING_KEY_SECRET (it holds a live link token),
  // cleared once the mail went out by SMTP. `next_attempt_at` is also the
  // lease of the worker sending it, so a crash mid-send retries later.
  `CREATE TABLE identity.mail_queue (
      id uuid PRIMARY KEY,
      kind text NOT NULL,
      recipient text NOT NULL,
      user_id uuid REFERENCES identity.users (id) ON DELETE CASCADE,
      subject text,
      content text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      transport text,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz
    )`,
  `CREATE INDEX mail_queue_due ON identity.mail_queue (next_attempt_at) WHERE status = 'pending'`,
  `CREATE INDEX mail_queue_recipient ON identity.mail_queue (recipient)`,
  // Links mailed for a password reset or an address verification: SHA-256 of
  // the token only, single use. `email` is the address the link went to: a
  // verification counts only while the account still has that address.
  `CREATE TABLE identity.email_tokens (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
      purpose text NOT NULL CHECK (purpose IN ('password-reset', 'verify-email')),
      token_hash text NOT NULL UNIQUE,
      email text NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  `CREATE INDEX email_tokens_user ON identity.email_tokens (user_id, purpose)`,
];
