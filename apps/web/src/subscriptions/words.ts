import type { MySubscription, SubscriptionStatus, SubscriptionTier } from '@neon/contracts';
import { date, money } from '../format';

const tierNames: Record<SubscriptionTier, string> = {
  tier1: 'Tier 1',
  tier2: 'Tier 2',
  tier3: 'Tier 3',
};

export function tierName(tier: SubscriptionTier): string {
  return tierNames[tier];
}

/** "$4.99 / month". */
export function perMonth(price: number, currency: string): string {
  return `${money(price, currency)} / month`;
}

/** The statuses that give a subscriber's benefits (the badge, subscribers-only chat), as payments decides. */
export function isEntitled(status: SubscriptionStatus): boolean {
  return status === 'active' || status === 'past_due' || status === 'canceled';
}

/** Whether the subscription will not renew (canceled, or canceled and not yet reported so). */
export function isEnding(s: Pick<MySubscription, 'status' | 'cancelAtPeriodEnd'>): boolean {
  return s.status === 'canceled' || (s.cancelAtPeriodEnd && s.status !== 'expired');
}

const statusWords: Record<SubscriptionStatus, string> = {
  pending: 'Waiting for the payment',
  active: 'Active',
  past_due: 'Active, renewal payment failed',
  canceled: 'Active until it ends, not renewing',
  expired: 'Ended',
};

export function statusText(s: Pick<MySubscription, 'status' | 'cancelAtPeriodEnd'>): string {
  return isEnding(s) && s.status !== 'canceled' ? statusWords.canceled : statusWords[s.status];
}

/** "Renews on Jan 5, 2027", "Ends on …", "Ended on …"; null without a period. */
export function periodText(
  s: Pick<MySubscription, 'status' | 'cancelAtPeriodEnd' | 'currentPeriodEnd'>,
  now = Date.now(),
): string | null {
  if (!s.currentPeriodEnd) return null;
  const when = date(s.currentPeriodEnd);
  // A refund or dispute ends a subscription before its period does: the date would be wrong.
  if (s.status === 'expired')
    return Date.parse(s.currentPeriodEnd) <= now ? `Ended on ${when}` : null;
  if (isEnding(s)) return `Ends on ${when}`;
  if (s.status === 'past_due') return `Renewal was due on ${when}`;
  return `Renews on ${when}`;
}

export function monthsText(months: number): string {
  return `${months} ${months === 1 ? 'month' : 'months'}`;
}
