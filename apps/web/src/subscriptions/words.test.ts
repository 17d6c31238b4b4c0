import { describe, expect, it } from 'vitest';
import { money, month } from '../format';
import { periodText, statusText } from './words';

describe('subscription words', () => {
  it('formats minor units in the currency’s own decimals', () => {
    expect(money(499, 'usd')).toBe('$4.99');
    expect(money(250, 'EUR')).toBe('€2.50');
    expect(money(500, 'jpy')).toBe('¥500');
    expect(money(0, 'usd')).toBe('$0.00');
    expect(month('2026-12')).toBe('December 2026');
  });

  it('says when a subscription renews, ends or ended', () => {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const end = '2027-01-05T12:00:00.000Z';
    const base = { currentPeriodEnd: end, cancelAtPeriodEnd: false };
    expect(periodText({ ...base, status: 'active' }, now)).toBe('Renews on Jan 5, 2027');
    expect(periodText({ ...base, status: 'active', cancelAtPeriodEnd: true }, now)).toBe(
      'Ends on Jan 5, 2027',
    );
    expect(periodText({ ...base, status: 'canceled' }, now)).toBe('Ends on Jan 5, 2027');
    // Refunded before its period was over: no end date that never happened.
    expect(periodText({ ...base, status: 'expired' }, now)).toBeNull();
    expect(periodText({ ...base, status: 'expired' }, Date.parse('2027-02-01T00:00:00Z'))).toBe(
      'Ended on Jan 5, 2027',
    );
    expect(periodText({ ...base, currentPeriodEnd: null, status: 'active' }, now)).toBeNull();
    expect(statusText({ status: 'active', cancelAtPeriodEnd: true })).toBe(
      'Active until it ends, not renewing',
    );
    expect(statusText({ status: 'past_due', cancelAtPeriodEnd: false })).toBe(
      'Active, renewal payment failed',
    );
  });
});
