import { outboxTableSql } from '@neon/bus';
import type { Migration } from '@neon/db';

/**
 * The outbox the went-live fan-out pages wait in (written with the gate that
 * admits the broadcast, so a crash or bus outage delays pages rather than
 * losing them), and the channels whose owners are suspended (they notify no one).
 */
export const fanout: Migration = {
  id: '0002_fanout',
  up: async (q) => {
    await q.query(outboxTableSql('notify'));
    await q.query(`CREATE TABLE notify.suspended (user_id text PRIMARY KEY)`);
  },
};
