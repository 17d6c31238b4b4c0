import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { Db } from '@neon/db';

/** Payments' copy of identity's users, from the start of the stream: channel names to owner ids. */
export function subscribeUsers(bus: Bus, db: Db, schema: string): Promise<Subscription> {
  return bus.subscribe({
    group: 'payments.users',
    types: ['identity.user.registered.v1', 'identity.user.updated.v1'],
    from: 'all',
    handler: async (event) => {
      const d = event.data;
      await handleOnce(db, schema, 'payments.users', event.id, async (q) => {
        await q.query(
          `INSERT INTO payments.users (user_id, username) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET username = $2`,
          [d.userId, d.username.toLowerCase()],
        );
      });
    },
  });
}

export async function userNamed(
  db: Db,
  username: string,
): Promise<{ user_id: string; username: string } | null> {
  const rows = await db.query<{ user_id: string; username: string }>(
    `SELECT user_id, username FROM payments.users WHERE username = $1`,
    [username.toLowerCase()],
  );
  return rows[0] ?? null;
}
