import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelRevenue } from '@neon/contracts';
import { me, problem, renderApp, route, serve } from '../test-utils';
import { RevenuePanel } from './RevenuePanel';

const PATH = '/api/v1/me/revenue';

function revenue(over: Partial<ChannelRevenue> = {}): ChannelRevenue {
  return {
    currency: 'usd',
    subscribers: { tier1: 0, tier2: 0, tier3: 0 },
    revenueThisMonth: 0,
    balance: 0,
    payouts: [],
    ...over,
  };
}

const figures = (el: HTMLElement) =>
  Object.fromEntries(
    [...el.querySelectorAll('div')].map((d) => [
      d.querySelector('dt')?.textContent,
      d.querySelector('dd')?.textContent,
    ]),
  );

describe('RevenuePanel', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('shows subscribers by tier, this month’s share with its currency, and the payout ledger', async () => {
    serve(
      route('GET', PATH, {
        body: revenue({
          subscribers: { tier1: 12, tier2: 3, tier3: 1 },
          revenueThisMonth: 5247,
          balance: 8000,
          payouts: [
            {
              month: '2026-11',
              amount: 41230,
              currency: 'usd',
              paidAt: '2026-12-01T09:00:00.000Z',
            },
            { month: '2026-10', amount: 1999, currency: 'usd', paidAt: '2026-11-01T09:00:00.000Z' },
          ],
        }),
      }),
    );
    renderApp(<RevenuePanel />, { user: me('streamer') });
    const panel = await screen.findByRole('region', { name: 'Subscribers and revenue' });
    const subscribers = await within(panel).findByTestId('subscribers');
    expect(figures(subscribers)).toEqual({
      'Tier 1': '12',
      'Tier 2': '3',
      'Tier 3': '1',
      Total: '16',
    });
    expect(within(panel).getByTestId('revenue-this-month').textContent).toBe('$52.47');
    expect(within(panel).getByTestId('revenue-balance').textContent).toBe('$80.00');
    expect(within(panel).getByText(/in USD\.$/)).toBeTruthy();
    const table = within(panel).getByRole('table', { name: 'Payouts' });
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((r) =>
        within(r)
          .getAllByRole('cell')
          .map((c) => c.textContent),
      );
    expect(rows).toEqual([
      ['November 2026', '$412.30', 'Dec 1, 2026'],
      ['October 2026', '$19.99', 'Nov 1, 2026'],
    ]);
  });

  it('says in words that there are no subscribers and no payouts yet', async () => {
    serve(route('GET', PATH, { body: revenue({ currency: 'eur' }) }));
    renderApp(<RevenuePanel />, { user: me('streamer') });
    expect((await screen.findByTestId('no-subscribers')).textContent).toMatch(
      /^No subscribers yet\./,
    );
    expect(screen.getByTestId('no-payouts').textContent).toMatch(/^No payouts yet\./);
    expect(screen.getByTestId('revenue-this-month').textContent).toBe('€0.00');
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows a failed load in words, with a retry', async () => {
    let fail = true;
    serve(
      route('GET', PATH, () =>
        fail ? problem(502, 'GATEWAY_UPSTREAM_UNAVAILABLE') : { body: revenue() },
      ),
    );
    renderApp(<RevenuePanel />, { user: me('streamer') });
    const alert = await screen.findByRole('alert');
    expect(
      within(alert).getByText('A Neon service is unavailable. Try again shortly.'),
    ).toBeTruthy();
    fail = false;
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await screen.findByTestId('no-subscribers');
  });
});
