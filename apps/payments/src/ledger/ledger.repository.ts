import type { Queryable } from '@neon/db';

export type LedgerKind = 'payment' | 'refund' | 'dispute' | 'payout';

/** The accounts of the ledger. Debits are positive, credits negative. */
export const accounts = {
  /** Money the provider holds for the platform. */
  provider: (name: string) => `provider:${name}`,
  platformRevenue: 'platform:revenue',
  /** What the platform owes a streamer (a credit balance). */
  streamer: (channelId: string) => `streamer:${channelId}`,
  /** Money sent out to streamers. */
  payouts: 'payouts',
} as const;

export interface LedgerLine {
  account: string;
  amount: number;
}

/**
 * Records one balanced transaction under `key`, once: a second call with the
 * same key changes nothing and returns false. Throws when the lines do not
 * add up to zero (a programming error, never stored).
 */
export async function postTransaction(
  q: Queryable,
  txn: {
    key: string;
    kind: LedgerKind;
    channelId: string;
    subscriptionId: string | null;
    currency: string;
    lines: readonly LedgerLine[];
  },
): Promise<boolean> {
  const sum = txn.lines.reduce((s, l) => s + l.amount, 0);
  if (sum !== 0 || txn.lines.some((l) => !Number.isSafeInteger(l.amount)))
    throw new Error(`ledger transaction ${txn.key} does not balance`);
  const inserted = await q.query(
    `INSERT INTO payments.ledger_transactions (key, kind, channel_id, subscription_id)
     VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING key`,
    [txn.key, txn.kind, txn.channelId, txn.subscriptionId],
  );
  if (inserted.length === 0) return false;
  for (const l of txn.lines) {
    if (l.amount === 0) continue;
    await q.query(
      `INSERT INTO payments.ledger_entries (txn_key, account, amount, currency) VALUES ($1, $2, $3, $4)`,
      [txn.key, l.account, l.amount, txn.currency],
    );
  }
  return true;
}

/** An account's balance (debits minus credits) over entries before `until` (all when null). */
export async function balance(
  q: Queryable,
  account: string,
  since: Date | null = null,
  until: Date | null = null,
  kinds: readonly LedgerKind[] | null = null,
): Promise<number> {
  const rows = await q.query<{ total: string | null }>(
    `SELECT sum(e.amount)::text AS total
       FROM payments.ledger_entries e JOIN payments.ledger_transactions t ON t.key = e.txn_key
      WHERE e.account = $1
        AND ($2::timestamptz IS NULL OR e.created_at >= $2)
        AND ($3::timestamptz IS NULL OR e.created_at < $3)
        AND ($4::text[] IS NULL OR t.kind = ANY($4))`,
    [account, since, until, kinds === null ? null : [...kinds]],
  );
  return Number(rows[0]?.total ?? 0);
}

/** The sum of every entry: zero while the ledger is consistent. */
export async function ledgerTotal(q: Queryable): Promise<number> {
  const rows = await q.query<{ total: string | null }>(
    `SELECT sum(amount)::text AS total FROM payments.ledger_entries`,
  );
  return Number(rows[0]?.total ?? 0);
}

/** Channels the platform owes money to, with the amount (positive). */
export async function owedByChannel(
  q: Queryable,
  until: Date,
): Promise<{ channelId: string; owed: number; currency: string }[]> {
  const rows = await q.query<{ account: string; owed: string; currency: string }>(
    `SELECT account, (-sum(amount))::text AS owed, min(currency) AS currency
       FROM payments.ledger_entries
      WHERE account LIKE 'streamer:%' AND created_at < $1
      GROUP BY account HAVING -sum(amount) > 0 ORDER BY account`,
    [until],
  );
  return rows.map((r) => ({
    channelId: r.account.slice('streamer:'.length),
    owed: Number(r.owed),
    currency: r.currency,
  }));
}
