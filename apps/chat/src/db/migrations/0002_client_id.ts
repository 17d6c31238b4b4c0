import type { Migration } from '@neon/db';

export const m0002: Migration = {
  id: '0002_client_id',
  // A sender's retry of a message carries the id it gave the first try: one row per sender, room and id.
  async up(q) {
    await q.query(`ALTER TABLE chat.messages ADD COLUMN client_id text`);
    await q.query(
      `CREATE UNIQUE INDEX messages_client_id ON chat.messages (channel, sender_id, client_id)
       WHERE client_id IS NOT NULL`,
    );
  },
};
