import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MySubscription } from '@neon/contracts';
import { me, problem, renderApp, route, serve, type Call } from '../test-utils';
import SubscriptionSettings from './SubscriptionSettings';

const LIST = '/api/v1/me/subscriptions';
const ID = '0190aaaa-0000-7000-8000-000000000001';

function subscription(over: Partial<MySubscription> = {}): MySubscription {
  return {
    id: ID,
    channel: 'synthwave',
    tier: 'tier1',
    status: 'active',
    months: 2,
    price: 499,
    currency: 'usd',
    currentPeriodEnd: '2027-01-05T12:00:00.000Z',
    cancelAtPeriodEnd: false,
    provider: 'stripe',
    ...over,
  };
}

const item = (channel: string) => screen.getByTestId(`subscription-${channel}`);
const facts = (el: HTMLElement) =>
  Object.fromEntries(
    [...el.querySelectorAll('dl > div')].map((d) => [
      d.querySelector('dt')?.textContent,
      d.querySelector('dd')?.textContent,
    ]),
  );

describe('SubscriptionSettings', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('lists each subscription with its channel, tier, price, status and renewal or end', async () => {
    serve(
      route('GET', LIST, {
        body: {
          items: [
            subscription(),
            subscription({
              id: `${ID.slice(0, -1)}2`,
              channel: 'lofibeats',
              tier: 'tier3',
              price: 2499,
              status: 'canceled',
              cancelAtPeriodEnd: true,
              months: 1,
              currentPeriodEnd: '2026-12-20T12:00:00.000Z',
            }),
            subscription({
              id: `${ID.slice(0, -1)}3`,
              channel: 'oldshow',
              status: 'expired',
              currentPeriodEnd: '2026-10-01T12:00:00.000Z',
            }),
          ],
        },
      }),
    );
    renderApp(<SubscriptionSettings />, { user: me('viewer') });
    await screen.findByTestId('subscription-synthwave');
    expect(screen.getByRole('heading', { level: 1, name: 'Subscriptions' })).toBeTruthy();
    const active = item('synthwave');
    expect(within(active).getByRole('heading', { name: 'synthwave' })).toBeTruthy();
    expect(within(active).getByRole('link', { name: 'synthwave' }).getAttribute('href')).toBe(
      '/synthwave',
    );
    expect(within(active).getByText('Active')).toBeTruthy();
    expect(facts(active)).toEqual({
      Tier: 'Tier 1',
      Price: '$4.99 / month',
      'Subscribed for': '2 months',
      Renewal: 'Renews on Jan 5, 2027',
    });
    const ending = item('lofibeats');
    expect(within(ending).getByText('Active until it ends, not renewing')).toBeTruthy();
    expect(facts(ending)).toMatchObject({ Price: '$24.99 / month', End: 'Ends on Dec 20, 2026' });
    expect(within(ending).getByRole('button', { name: /^Resume/ })).toBeTruthy();
    const ended = item('oldshow');
    expect(within(ended).getByText('Ended')).toBeTruthy();
    expect(facts(ended)).toMatchObject({ End: 'Ended on Oct 1, 2026' });
    expect(within(ended).queryByRole('button')).toBeNull();
  });

  it('cancels after a confirmation; it then ends on its period end and stays active until then', async () => {
    const calls = serve(
      route('GET', LIST, { body: { items: [subscription()] } }),
      // The provider accepted it; its webhook has not been processed yet, so the answer is unchanged.
      route('POST', `${LIST}/${ID}/cancel`, { body: subscription() }),
    );
    renderApp(<SubscriptionSettings />, { user: me('viewer') });
    const cancel = await screen.findByRole('button', {
      name: 'Cancel subscription to synthwave…',
    });
    fireEvent.click(cancel);
    const confirm = screen.getByRole('alertdialog');
    expect(confirm.textContent).toMatch(/until Jan 5, 2027/);
    expect(calls.filter((c: Call) => c.method === 'POST')).toHaveLength(0);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Keep subscription' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    await waitFor(() =>
      expect(document.activeElement).toBe(
        screen.getByRole('button', { name: 'Cancel subscription to synthwave…' }),
      ),
    );

    fireEvent.click(screen.getByRole('button', { name: 'Cancel subscription to synthwave…' }));
    fireEvent.click(
      within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Cancel subscription' }),
    );
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toBe(
        'Your subscription to synthwave is canceled. It stays active until Jan 5, 2027.',
      ),
    );
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ cancel: true });
    const it = item('synthwave');
    expect(facts(it)).toMatchObject({ End: 'Ends on Jan 5, 2027' });
    expect(within(it).getByText('Active until it ends, not renewing')).toBeTruthy();
    // Focus stays on the control in the same place, now the way back (moved there once the
    // answer is shown, so it is waited for like the answer).
    await waitFor(() =>
      expect(document.activeElement).toBe(
        within(it).getByRole('button', { name: 'Resume subscription to synthwave' }),
      ),
    );
  });

  it('resumes a canceled subscription', async () => {
    const ending = subscription({ status: 'canceled', cancelAtPeriodEnd: true });
    const calls = serve(
      route('GET', LIST, { body: { items: [ending] } }),
      route('POST', `${LIST}/${ID}/cancel`, { body: ending }),
    );
    renderApp(<SubscriptionSettings />, { user: me('viewer') });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Resume subscription to synthwave' }),
    );
    await waitFor(() => expect(facts(item('synthwave'))).toMatchObject({ Renewal: /Renews/ }));
    expect(facts(item('synthwave')).Renewal).toBe('Renews on Jan 5, 2027');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ cancel: false });
  });

  it('shows the server’s refusal of a cancel in words and changes nothing', async () => {
    serve(
      route('GET', LIST, { body: { items: [subscription()] } }),
      route('POST', `${LIST}/${ID}/cancel`, problem(404, 'PAYMENTS_SUBSCRIPTION_NOT_FOUND')),
    );
    renderApp(<SubscriptionSettings />, { user: me('viewer') });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Cancel subscription to synthwave…' }),
    );
    fireEvent.click(
      within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Cancel subscription' }),
    );
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not cancel your subscription to synthwave: This subscription has ended. Reload the page to see it.',
    );
    expect(facts(item('synthwave'))).toMatchObject({ Renewal: 'Renews on Jan 5, 2027' });
  });

  it('says so when there are no subscriptions', async () => {
    serve(route('GET', LIST, { body: { items: [] } }));
    renderApp(<SubscriptionSettings />, { user: me('viewer') });
    await screen.findByText('You are not subscribed to any channel.');
  });

  it('shows a failed load with the server’s words and a retry', async () => {
    let fail = true;
    serve(
      route('GET', LIST, () =>
        fail ? problem(503, 'SERVICE_UNAVAILABLE') : { body: { items: [subscription()] } },
      ),
    );
    renderApp(<SubscriptionSettings />, { user: me('viewer') });
    const alert = await screen.findByRole('alert');
    expect(
      within(alert).getByText('A Neon service is unavailable. Try again shortly.'),
    ).toBeTruthy();
    fail = false;
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await screen.findByTestId('subscription-synthwave');
  });
});
