import type { SubscriptionTier } from '@neon/contracts';

/** The price of each tier in the platform currency's minor units (cents). */
export const TIER_PRICES: Readonly<Record<SubscriptionTier, number>> = {
  tier1: 499,
  tier2: 999,
  tier3: 2499,
};

export const TIERS = Object.keys(TIER_PRICES) as SubscriptionTier[];

export function isTier(value: unknown): value is SubscriptionTier {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TIER_PRICES, value);
}

/**
 * Splits a payment between the platform and the streamer. The platform's share
 * is in basis points (5000 = 50%); it is rounded down, so the streamer gets
 * the odd cent and the two parts always add up to the amount.
 */
export function splitRevenue(
  amount: number,
  platformShareBps: number,
): { platform: number; streamer: number } {
  if (!Number.isSafeInteger(amount))
    throw new RangeError('amount must be an integer of minor units');
  if (!Number.isInteger(platformShareBps) || platformShareBps < 0 || platformShareBps > 10_000)
    throw new RangeError('platform share must be 0..10000 basis points');
  const platform = Math.trunc((amount * platformShareBps) / 10_000);
  return { platform, streamer: amount - platform };
}
