import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { EventData } from '@neon/contracts';
import type { Db } from '@neon/db';
import { ReadsInFlight } from './in-flight.js';

type SubscriptionEvent = EventData<'payments.subscription.activated.v1'>;

const TYPES = [
  'payments.subscription.activated.v1',
  'payments.subscription.renewed.v1',
  'payments.subscription.canceled.v1',
  'payments.subscription.expired.v1',
] as const;

/** A member's subscription as chat needs it: months paid, or null when not subscribed now. */
export type SubscriberState = number | null;

interface Entry {
  subscriptionId: string;
  version: number;
  months: SubscriberState;
}

/**
 * Who subscribes to which channel now, for subscribers-only mode and the
 * subscriber badge: remembered per replica, read from chat's projection on a
 * miss, and kept current by payments' events (each carries the whole
 * subscription with a version, so a late one never overwrites a newer one).
 */
export class SubscriberBook {
  private readonly known = new Map<string, Entry | null>();
  private readonly reading = new ReadsInFlight();

  constructor(
    private readonly db: Db,
    private readonly capacity = 200_000,
  ) {}

  async months(channel: string, userId: string): Promise<SubscriberState> {
    const key = `${channel}\n${userId}`;
    const hit = this.known.get(key);
    if (hit !== undefined) return hit?.months ?? null;
    const rows = await this.reading.during(key, () =>
      this.db.query<{ subscription_id: string; version: number; months: number }>(
        `SELECT subscription_id, version, months FROM chat.subscriptions
          WHERE channel = $1 AND user_id = $2 AND entitled ORDER BY months DESC LIMIT 1`,
        [channel, userId],
      ),
    );
    const row = rows[0];
    // A change heard while the read was in flight is newer and wins.
    if (this.known.has(key)) return this.known.get(key)?.months ?? null;
    this.remember(
      key,
      row
        ? { subscriptionId: row.subscription_id, version: row.version, months: row.months }
        : null,
    );
    return row?.months ?? null;
  }

  /** A subscription event heard by this replica. */
  heard(d: SubscriptionEvent): void {
    const key = `${d.channel}\n${d.userId}`;
    const cur = this.known.get(key);
    // Not asked about here: the first lookup reads the projection. One in flight may have read
    // before this event was projected, so it hears it.
    if (cur === undefined && !this.reading.has(key)) return;
    if (cur && cur.subscriptionId === d.subscriptionId && cur.version > d.version) return;
    if (cur && cur.subscriptionId !== d.subscriptionId && !d.entitled) return;
    this.remember(
      key,
      d.entitled
        ? { subscriptionId: d.subscriptionId, version: d.version, months: d.months }
        : null,
    );
  }

  private remember(key: string, entry: Entry | null): void {
    if (this.known.size >= this.capacity) this.known.clear();
    this.known.set(key, entry);
  }
}

/**
 * Projects payments' subscription events into `chat.subscriptions` (one
 * replica per event, durable from the start of the stream), and lets every
 * replica hear them for its own book.
 */
export async function subscribeSubscriptions(
  bus: Bus,
  db: Db,
  schema: string,
  book: SubscriberBook,
): Promise<Subscription[]> {
  const projection = await bus.subscribe({
    group: 'chat.subscriptions',
    types: [...TYPES],
    from: 'all',
    handler: async (event) => {
      const d = event.data;
      await handleOnce(db, schema, 'chat.subscriptions', event.id, async (q) => {
        await q.query(
          `INSERT INTO chat.subscriptions (subscription_id, channel, user_id, entitled, months, version)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (subscription_id) DO UPDATE SET entitled = $4, months = $5, version = $6
           WHERE chat.subscriptions.version <= $6`,
          [d.subscriptionId, d.channel, d.userId, d.entitled, d.months, d.version],
        );
      });
      book.heard(d);
    },
  });
  // Every replica, not one of the group: each keeps its own book current.
  const local = await bus.subscribe({
    types: [...TYPES],
    handler: async (event) => {
      book.heard(event.data);
    },
  });
  return [projection, local];
}
