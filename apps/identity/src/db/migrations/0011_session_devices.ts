import type { Migration } from '@neon/db';

export const m0011: Migration = {
  id: '0011_session_devices',
  up: async (q) => {
    // "Your sessions" (sessions/): the User-Agent the sign-in came with (at most
    // 512 characters, read into words when listed) and the last refresh.
    await q.query(`ALTER TABLE identity.refresh_families ADD COLUMN user_agent text`);
    await q.query(`ALTER TABLE identity.refresh_families ADD COLUMN last_used_at timestamptz`);
  },
};
