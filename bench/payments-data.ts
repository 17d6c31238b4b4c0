// The Stripe events bench:payments sends (shapes as in apps/payments/test/stripe-webhooks.test.ts),
// in per-subscription sequences whose final state is fixed by the kind of sequence.
import { createHmac, randomUUID } from 'node:crypto';

const DAY = 86_400;

/**
 * The sequences, in the order Stripe sends them, and what applying one in order leaves:
 * - paid: checkout completed, subscription created, first invoice paid → active, 1 month;
 * - renewed-canceled: paid + second invoice paid + updated (cancel at period end) → canceled, 2 months;
 * - past-due: paid + the second invoice's payment failed → past_due, 1 month;
 * - deleted: paid + subscription deleted → expired, 1 month.
 */
export const KINDS = ['paid', 'renewed-canceled', 'past-due', 'deleted'] as const;
export type Kind = (typeof KINDS)[number];

export interface Expected {
  status: 'active' | 'canceled' | 'past_due' | 'expired';
  months: number;
  cancelAtPeriodEnd: boolean;
}

export const EXPECTED: Record<Kind, Expected> = {
  paid: { status: 'active', months: 1, cancelAtPeriodEnd: false },
  'renewed-canceled': { status: 'canceled', months: 2, cancelAtPeriodEnd: true },
  'past-due': { status: 'past_due', months: 1, cancelAtPeriodEnd: false },
  deleted: { status: 'expired', months: 1, cancelAtPeriodEnd: false },
};

export const AMOUNT = 999;

export interface BenchEvent {
  id: string;
  body: string;
}

export interface Sequence {
  ref: string;
  kind: Kind;
  /** Invoices paid (each one ledger payment of AMOUNT). */
  invoices: number;
  events: BenchEvent[];
  /** Sent in reverse (the last event first). */
  reversed: boolean;
}

export interface Workload {
  sequences: Sequence[];
  /** What the senders post, in order: duplicates included. */
  sends: BenchEvent[];
  unique: number;
  duplicates: number;
}

/** A seeded generator (mulberry32), so every round and both sides send the same list. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function sequence(
  kind: Kind,
  n: number,
  user: { id: string; name: string },
  channel: { id: string; name: string },
  now: number,
): Sequence {
  const ref = `sub_bench_${n}`;
  const meta = {
    neon_checkout_id: randomUUID(),
    neon_user_id: user.id,
    neon_username: user.name,
    neon_channel_id: channel.id,
    neon_channel: channel.name,
    neon_tier: 'tier1',
  };
  // Provider times one second apart, in the sequence's order.
  let created = now - 600;
  const event = (type: string, object: Record<string, unknown>): BenchEvent => {
    const id = `evt_bench_${n}_${type.replace(/\W/g, '_')}_${created}`;
    const body = JSON.stringify({
      id,
      object: 'event',
      type,
      created: created++,
      data: { object },
    });
    return { id, body };
  };
  const sub = (extra: Record<string, unknown> = {}) => ({
    id: ref,
    object: 'subscription',
    status: 'active',
    cancel_at_period_end: false,
    metadata: meta,
    ...extra,
  });
  const start = now - DAY;
  const invoice = (i: number) => ({
    id: `in_${ref}_${i}`,
    object: 'invoice',
    subscription: ref,
    subscription_details: { metadata: meta },
    amount_paid: AMOUNT,
    currency: 'usd',
    charge: `ch_${ref}_${i}`,
    lines: { data: [{ period: { start: start + i * 30 * DAY, end: start + (i + 1) * 30 * DAY } }] },
  });
  const events = [
    event('checkout.session.completed', {
      id: `cs_${ref}`,
      object: 'checkout.session',
      mode: 'subscription',
      subscription: ref,
      metadata: meta,
    }),
    event('customer.subscription.created', sub()),
    event('invoice.paid', invoice(0)),
  ];
  let invoices = 1;
  if (kind === 'renewed-canceled') {
    events.push(event('invoice.paid', invoice(1)));
    invoices++;
    events.push(event('customer.subscription.updated', sub({ cancel_at_period_end: true })));
  } else if (kind === 'past-due') {
    events.push(event('invoice.payment_failed', { ...invoice(1), amount_paid: 0 }));
  } else if (kind === 'deleted') {
    events.push(event('customer.subscription.deleted', sub({ status: 'canceled' })));
  }
  return { ref, kind, invoices, events, reversed: false };
}

/**
 * About `total` sends: sequences for `users` users over `channels` channels, `reorder` of the
 * sequences sent in reverse, and `duplicate` of the events sent again later (same id and body).
 */
export function workload(
  total: number,
  options: { users?: number; channels?: number; reorder?: number; duplicate?: number } = {},
): Workload {
  const rnd = random(20_260_101);
  const duplicate = options.duplicate ?? 0.1;
  const reorder = options.reorder ?? 0.05;
  const people = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({ id: randomUUID(), name: `${prefix}${i}` }));
  const users = people(options.users ?? 2000, 'benchuser');
  const channels = people(options.channels ?? 200, 'benchchannel');
  const now = Math.floor(Date.now() / 1000);
  const sequences: Sequence[] = [];
  const uniqueTarget = Math.round(total / (1 + duplicate));
  let unique = 0;
  while (unique < uniqueTarget) {
    const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
    const s = sequence(
      kind,
      sequences.length,
      users[Math.floor(rnd() * users.length)]!,
      channels[Math.floor(rnd() * channels.length)]!,
      now,
    );
    if (rnd() < reorder) {
      s.reversed = true;
      s.events.reverse();
    }
    unique += s.events.length;
    sequences.push(s);
  }
  // Sequences interleave as concurrent checkouts would: each event goes to a random slot of
  // the send list, keeping its sequence's (possibly reversed) order.
  const keyed: { key: number; e: BenchEvent }[] = [];
  for (const s of sequences) {
    const base = rnd();
    s.events.forEach((e, i) => keyed.push({ key: base + i * 0.0001, e }));
  }
  keyed.sort((a, b) => a.key - b.key);
  const sends = keyed.map((k) => k.e);
  // Redeliveries: a copy of the event later in the list (Stripe retries after a delay).
  const copies = Math.round(unique * duplicate);
  for (let i = 0; i < copies; i++) {
    const at = Math.floor(rnd() * unique);
    const e = sends[at]!;
    const later = at + 1 + Math.floor(rnd() * (sends.length - at));
    sends.splice(later, 0, e);
  }
  return { sequences, sends, unique, duplicates: copies };
}

/** A `Stripe-Signature` header as Stripe documents it: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`. */
export function stripeSignature(payload: string, secret: string, at = Date.now()): string {
  const t = Math.floor(at / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')}`;
}
