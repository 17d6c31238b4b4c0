import type { Migration } from '@neon/db';
import { enqueue } from '../../outbox/outbox.js';

/**
 * Apps registered before `identity.oauth_client.created.v1` existed are
 * announced once, through the outbox like any other event, so that channels
 * knows their owners too (it shows an app's webhooks to its owner alone).
 */
export const m0012: Migration = {
  id: '0012_announce_oauth_clients',
  up: async (q) => {
    const clients = await q.query<{ id: string; owner_id: string; created_at: Date }>(
      `SELECT id, owner_id, created_at FROM identity.oauth_clients ORDER BY created_at, id`,
    );
    for (const c of clients)
      await enqueue(q, 'identity.oauth_client.created.v1', {
        clientId: c.id,
        ownerId: c.owner_id,
        createdAt: c.created_at.toISOString(),
      });
  },
};
