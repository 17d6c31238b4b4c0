import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '@neon/db';

/** A device cookie's value: 32 random bytes, base64url. Anything else is no cookie. */
const DEVICE_ID = /^[A-Za-z0-9_-]{43}$/;

export function newDeviceId(): string {
  return randomBytes(32).toString('base64url');
}

/** The presented cookie when it is well-formed, else a new id for this browser. */
export function deviceIdOf(presented: string | undefined): string {
  return presented !== undefined && DEVICE_ID.test(presented) ? presented : newDeviceId();
}

const hashOf = (deviceId: string) => createHash('sha256').update(deviceId).digest('hex');

/**
 * Records that the account signed in from this browser. `isNew`: never seen
 * for this account before; `others`: how many other browsers it knows (none
 * for a first sign-in, or for accounts from before devices were kept).
 */
export async function seeDevice(
  q: Queryable,
  userId: string,
  deviceId: string,
): Promise<{ isNew: boolean; others: number }> {
  const hash = hashOf(deviceId);
  const [row] = await q.query<{ inserted: boolean; others: number }>(
    `WITH seen AS (
       INSERT INTO identity.known_devices (user_id, device_hash) VALUES ($1, $2)
       ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen_at = now()
       RETURNING (xmax = 0) AS inserted
     )
     SELECT inserted,
            (SELECT count(*)::int FROM identity.known_devices
              WHERE user_id = $1 AND device_hash <> $2) AS others
       FROM seen`,
    [userId, hash],
  );
  return { isNew: row?.inserted ?? false, others: row?.others ?? 0 };
}
