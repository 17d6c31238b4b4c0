import type { Migration } from '@neon/db';

export const m0014: Migration = {
  id: '0014_known_devices',
  up: async (q) => {
    for (const statement of statements) await q.query(statement);
  },
};

const statements = [
  // The browsers each account signed in from, known by a long-lived random
  // cookie (SHA-256 of it only). A sign-in from a browser the account has not
  // seen, when it has seen others, mails the owner (mail kind `new-device`).
  `CREATE TABLE identity.known_devices (
      user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
      device_hash text NOT NULL,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, device_hash)
    )`,
  // What a mail's composer needs beyond its recipient (the device and time of a new sign-in).
  `ALTER TABLE identity.mail_queue ADD COLUMN detail jsonb`,
  // A change of address: the link goes to the new address, which the token
  // holds (`email`) until it is confirmed.
  `ALTER TABLE identity.email_tokens DROP CONSTRAINT email_tokens_purpose_check`,
  `ALTER TABLE identity.email_tokens ADD CONSTRAINT email_tokens_purpose_check
     CHECK (purpose IN ('password-reset', 'verify-email', 'change-email'))`,
];
