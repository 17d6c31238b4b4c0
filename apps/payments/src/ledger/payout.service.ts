import type { Db } from '@neon/db';
import { accounts, owedByChannel, postTransaction } from './ledger.repository.js';

/** `YYYY-MM` of a date, in UTC. */
export function monthOf(d: Date): string {
  return d.toISOString().slice(0, 7);
}

/** The first instant of the month of `d`, UTC. */
export function startOfMonth(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

/**
 * The monthly payout run: pays each streamer what they had earned before the
 * month `now` falls in, under the key of the previous month. The key and the
 * `(channel, month)` row make a second run of the same month pay nothing.
 */
export async function runPayouts(db: Db, now: Date): Promise<{ paid: number; total: number }> {
  const cutoff = startOfMonth(now);
  const month = monthOf(new Date(cutoff.getTime() - 1));
  let paid = 0;
  let total = 0;
  for (const { channelId, owed, currency } of await owedByChannel(db, cutoff)) {
    const done = await db.tx(async (q) => {
      const row = await q.query(
        `INSERT INTO payments.payouts (channel_id, month, amount, currency) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel_id, month) DO NOTHING RETURNING channel_id`,
        [channelId, month, owed, currency],
      );
      if (row.length === 0) return false;
      return postTransaction(q, {
        key: `payout:${channelId}:${month}`,
        kind: 'payout',
        channelId,
        subscriptionId: null,
        currency,
        lines: [
          { account: accounts.streamer(channelId), amount: owed },
          { account: accounts.payouts, amount: -owed },
        ],
      });
    });
    if (done) {
      paid++;
      total += owed;
    }
  }
  return { paid, total };
}
