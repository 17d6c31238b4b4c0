import { outboxTableSql } from '@neon/bus';
import type { Migration } from '@neon/db';

// One statement per query: PGlite's extended protocol takes no multi-statement strings.
const statements = [
  `-- Every verified provider event, stored before it is answered and processed from here.
   CREATE TABLE payments.webhook_events (
     provider text NOT NULL,
     event_id text NOT NULL,
     type text NOT NULL,
     body text NOT NULL,
     provider_created_at timestamptz NOT NULL,
     received_at timestamptz NOT NULL DEFAULT now(),
     state text NOT NULL DEFAULT 'pending'
       CHECK (state IN ('pending', 'processed', 'ignored', 'parked')),
     attempts integer NOT NULL DEFAULT 0,
     reason text,
     next_attempt_at timestamptz NOT NULL DEFAULT now(),
     processed_at timestamptz,
     PRIMARY KEY (provider, event_id)
   )`,
  `CREATE INDEX webhook_events_due ON payments.webhook_events (next_attempt_at)
     WHERE state = 'pending'`,
  `CREATE INDEX webhook_events_parked ON payments.webhook_events (received_at)
     WHERE state = 'parked'`,
  `-- Payments' copy of identity's users: channel names to ids.
   CREATE TABLE payments.users (
     user_id text PRIMARY KEY,
     username text NOT NULL UNIQUE
   )`,
  `-- A checkout started by a user; the provider's events carry its id back.
   CREATE TABLE payments.checkouts (
     id uuid PRIMARY KEY,
     user_id text NOT NULL,
     username text NOT NULL,
     channel_id text NOT NULL,
     channel text NOT NULL,
     tier text NOT NULL,
     provider text NOT NULL,
     provider_ref text,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `-- One per provider subscription; facts are the merged provider reports (see subscription-state.ts).
   CREATE TABLE payments.subscriptions (
     id uuid PRIMARY KEY,
     provider text NOT NULL,
     provider_ref text NOT NULL,
     user_id text NOT NULL,
     username text NOT NULL,
     channel_id text NOT NULL,
     channel text NOT NULL,
     tier text NOT NULL,
     status text NOT NULL,
     months integer NOT NULL DEFAULT 0,
     current_period_end timestamptz,
     cancel_at_period_end boolean NOT NULL DEFAULT false,
     facts jsonb NOT NULL,
     version integer NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (provider, provider_ref)
   )`,
  `CREATE INDEX subscriptions_user ON payments.subscriptions (user_id, channel_id)`,
  `CREATE INDEX subscriptions_channel ON payments.subscriptions (channel_id, status)`,
  `CREATE INDEX subscriptions_open ON payments.subscriptions (current_period_end)
     WHERE status IN ('active', 'past_due', 'canceled')`,
  `-- Each paid invoice once, to find the subscription a refund or dispute is about.
   CREATE TABLE payments.payments (
     provider text NOT NULL,
     invoice_id text NOT NULL,
     subscription_id uuid NOT NULL REFERENCES payments.subscriptions (id),
     charge_ref text,
     amount bigint NOT NULL,
     currency text NOT NULL,
     -- Taken back so far by refunds (Stripe reports the cumulative amount).
     refunded bigint NOT NULL DEFAULT 0,
     paid_at timestamptz NOT NULL,
     PRIMARY KEY (provider, invoice_id)
   )`,
  `CREATE INDEX payments_charge ON payments.payments (provider, charge_ref)`,
  `-- Double-entry ledger: a transaction's entries add up to zero (debits positive, credits negative).
   CREATE TABLE payments.ledger_transactions (
     key text PRIMARY KEY,
     kind text NOT NULL CHECK (kind IN ('payment', 'refund', 'dispute', 'payout')),
     channel_id text NOT NULL,
     subscription_id uuid,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE payments.ledger_entries (
     id bigserial PRIMARY KEY,
     txn_key text NOT NULL REFERENCES payments.ledger_transactions (key),
     account text NOT NULL,
     amount bigint NOT NULL,
     currency text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX ledger_entries_account ON payments.ledger_entries (account, created_at)`,
  `-- One payout per channel and month, whatever the number of runs.
   CREATE TABLE payments.payouts (
     channel_id text NOT NULL,
     month text NOT NULL,
     amount bigint NOT NULL,
     currency text NOT NULL,
     -- Taken back so far by refunds (Stripe reports the cumulative amount).
     refunded bigint NOT NULL DEFAULT 0,
     paid_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (channel_id, month)
   )`,
];

export const init: Migration = {
  id: '0001_init',
  up: async (q) => {
    for (const sql of statements) await q.query(sql);
    await q.query(outboxTableSql('payments'));
  },
};
