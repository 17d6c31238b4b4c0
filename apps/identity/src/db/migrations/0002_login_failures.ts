import type { Migration } from '@neon/db';

export const m0002: Migration = {
  id: '0002_login_failures',
  up: async (q) => {
    // Per account, whatever address the attempts come from: see auth/login-limit.ts.
    // `account` is a user id, or the login tried when no account has it, so an
    // unknown login is slowed and locked exactly as a real one (no tell).
    await q.query(`CREATE TABLE identity.login_failures (
        account text PRIMARY KEY,
        failures integer NOT NULL,
        first_failed_at timestamptz NOT NULL,
        last_failed_at timestamptz NOT NULL,
        locked_until timestamptz
      )`);
    await q.query(`CREATE INDEX login_failures_last ON identity.login_failures (last_failed_at)`);
  },
};
