import type { Migration } from '@neon/db';

/** Admin changes to categories are audited too, and belong to no channel. */
export const adminAudit: Migration = {
  id: '0003_admin_audit',
  up: async (q) => {
    await q.query(`ALTER TABLE channels.audit ALTER COLUMN channel_id DROP NOT NULL`);
  },
};
