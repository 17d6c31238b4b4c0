import { outboxTableSql } from '@neon/bus';
import type { Migration } from '@neon/db';

/** Events wait here, written with the change they describe, until the relay has published them. */
export const outbox: Migration = {
  id: '0002_outbox',
  up: async (q) => {
    await q.query(outboxTableSql('channels'));
  },
};
