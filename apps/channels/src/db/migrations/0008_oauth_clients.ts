import type { Migration } from '@neon/db';

/**
 * Who owns which OAuth application, projected from identity's
 * `identity.oauth_client.created.v1` / `deleted.v1`: the developer console
 * shows an app's webhook subscriptions to its owner alone. A deleted app keeps
 * its row with `deleted_at` set, so a creation heard after the deletion (a
 * replay) cannot bring it back; client ids are never reused.
 */
export const oauthClients: Migration = {
  id: '0008_oauth_clients',
  up: async (q) => {
    await q.query(`CREATE TABLE channels.oauth_clients (
       client_id text PRIMARY KEY,
       owner_id text NOT NULL,
       deleted_at timestamptz
     )`);
  },
};
