import type { Migration } from '@neon/db';

export const m0002: Migration = {
  id: '0002_login_failures',
  up: async (q) => {
    // Per account, whatever address the attempts come from: see auth/login-limit.ts.
    await q.query(`CREATE TABLE identity.login_failures (
        user_id uuid PRIMARY KEY REFERENCES identity.users (id) ON DELETE CASCADE,
        failures integer NOT NULL,
        first_failed_at timestamptz NOT NULL,
        last_failed_at timestamptz NOT NULL,
        locked_until timestamptz
      )`);
  },
};
