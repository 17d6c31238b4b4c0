import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelSubscriptionOffer, MySubscription } from '@neon/contracts';
import { me, problem, renderApp, route, serve } from '../test-utils';
import { checkoutTarget, FINISH_WAIT_MS, SubscribeButton } from './SubscribeButton';

const OFFER_PATH = '/api/v1/channels/synthwave/subscription';
const CHECKOUT_PATH = '/api/v1/channels/synthwave/subscription/checkout';

/** Prices that are not the product's, so a hard-coded price list would fail. */
function offer(over: Partial<ChannelSubscriptionOffer> = {}): ChannelSubscriptionOffer {
  return {
    channel: 'synthwave',
    tiers: [
      { tier: 'tier1', price: 350, currency: 'eur' },
      { tier: 'tier2', price: 700, currency: 'eur' },
      { tier: 'tier3', price: 1750, currency: 'eur' },
    ],
    development: false,
    available: true,
    mine: null,
    ...over,
  };
}

function subscription(over: Partial<MySubscription> = {}): MySubscription {
  return {
    id: '0190aaaa-0000-7000-8000-000000000001',
    channel: 'synthwave',
    tier: 'tier1',
    status: 'active',
    months: 1,
    price: 350,
    currency: 'eur',
    currentPeriodEnd: '2027-01-05T12:00:00.000Z',
    cancelAtPeriodEnd: false,
    provider: 'stripe',
    ...over,
  };
}

const render = (at = '/synthwave', user: ReturnType<typeof me> | null = me('viewer')) =>
  renderApp(<SubscribeButton channel="synthwave" name="Synth Wave" />, { user, at });

const openDialog = async () => {
  fireEvent.click(await screen.findByRole('button', { name: 'Subscribe to Synth Wave' }));
  return screen.getByRole('dialog', { name: 'Subscribe to Synth Wave' });
};

let assign: ReturnType<typeof vi.fn>;

describe('SubscribeButton', () => {
  beforeEach(() => {
    // Checkout leaves the app with location.assign: recorded here instead.
    assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, href: window.location.href, assign });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('offers the server’s tiers and prices and sends the browser to the checkout it returns', async () => {
    const calls = serve(
      route('GET', OFFER_PATH, { body: offer() }),
      route('POST', CHECKOUT_PATH, {
        body: { url: 'https://checkout.stripe.test/c/pay/cs_1', checkoutId: 'c1' },
      }),
    );
    render();
    const dialog = await openDialog();
    const tiers = within(dialog).getByRole('group', { name: 'Choose a tier' });
    expect(
      within(tiers)
        .getAllByRole('radio')
        .map((r) => r.closest('label')?.textContent),
    ).toEqual(['Tier 1€3.50 / month', 'Tier 2€7.00 / month', 'Tier 3€17.50 / month']);
    // Focus starts in the dialog, on the chosen tier.
    expect(document.activeElement).toBe(within(tiers).getByRole('radio', { name: /Tier 1/ }));
    expect(within(dialog).queryByTestId('test-checkout')).toBeNull();
    fireEvent.click(within(tiers).getByRole('radio', { name: /Tier 2/ }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Continue to checkout' }));
    await waitFor(() =>
      expect(assign).toHaveBeenCalledWith('https://checkout.stripe.test/c/pay/cs_1'),
    );
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ tier: 'tier2' });
    expect(within(dialog).getByRole('button', { name: 'Opening checkout…' })).toHaveProperty(
      'disabled',
      true,
    );
  });

  it('says plainly that the development provider’s checkout is a test and moves no money', async () => {
    serve(
      route('GET', OFFER_PATH, { body: offer({ development: true }) }),
      route('POST', CHECKOUT_PATH, {
        body: { url: `${window.location.origin}/synthwave?subscribed=1`, checkoutId: 'c2' },
      }),
    );
    render();
    const dialog = await openDialog();
    expect(within(dialog).getByRole('note').textContent).toMatch(
      /^Test checkout\..*no money moves/,
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start test subscription' }));
    await waitFor(() =>
      expect(assign).toHaveBeenCalledWith(`${window.location.origin}/synthwave?subscribed=1`),
    );
  });

  it('shows the server’s refusal in the dialog and goes nowhere', async () => {
    serve(
      route('GET', OFFER_PATH, { body: offer() }),
      route('POST', CHECKOUT_PATH, problem(502, 'PAYMENTS_PROVIDER_UNAVAILABLE')),
    );
    render();
    const dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Continue to checkout' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(
      'The payment provider did not answer. Nothing was charged or changed: try again.',
    );
    expect(assign).not.toHaveBeenCalled();
  });

  it('never follows a checkout address that is not https or this site', async () => {
    serve(
      route('GET', OFFER_PATH, { body: offer() }),
      route('POST', CHECKOUT_PATH, { body: { url: 'javascript:alert(1)', checkoutId: 'c3' } }),
    );
    render();
    const dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Continue to checkout' }));
    await within(dialog).findByText(/an address this page will not open/);
    expect(assign).not.toHaveBeenCalled();
    expect(checkoutTarget('http://evil.test/x', 'http://localhost:3000/a')).toBeNull();
    expect(checkoutTarget('/a?subscribed=1', 'http://localhost:3000/a')).toBe(
      'http://localhost:3000/a?subscribed=1',
    );
  });

  it('closes on Escape and gives focus back to the button', async () => {
    serve(route('GET', OFFER_PATH, { body: offer() }));
    render();
    const button = await screen.findByRole('button', { name: 'Subscribe to Synth Wave' });
    button.focus();
    fireEvent.click(button);
    await screen.findByRole('dialog');
    fireEvent.keyDown(document, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('keeps Tab inside the dialog', async () => {
    serve(route('GET', OFFER_PATH, { body: offer() }));
    render();
    const dialog = await openDialog();
    const first = within(dialog).getByRole('radio', { name: /Tier 1/ });
    const last = within(dialog).getByRole('button', { name: 'Continue to checkout' });
    last.focus();
    fireEvent.keyDown(document, { key: 'Tab' });
    expect(document.activeElement).toBe(first);
    fireEvent.keyDown(document, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);
    expect(dialog.getAttribute('aria-modal')).toBe('true');
  });

  it('asks a signed-out visitor to log in and come back to the dialog', async () => {
    serve(route('GET', OFFER_PATH, { body: offer() }));
    render('/synthwave', null);
    const dialog = await openDialog();
    expect(within(dialog).getAllByRole('radio')).toHaveLength(3);
    expect(within(dialog).queryByRole('button', { name: 'Continue to checkout' })).toBeNull();
    expect(within(dialog).getByRole('link', { name: 'Log in' }).getAttribute('href')).toBe(
      `/login?next=${encodeURIComponent('/synthwave?subscribe=1')}`,
    );
  });

  it('opens the dialog again after the log-in brought the visitor back', async () => {
    serve(route('GET', OFFER_PATH, { body: offer() }));
    const { location } = render('/synthwave?subscribe=1');
    await screen.findByRole('dialog', { name: 'Subscribe to Synth Wave' });
    await waitFor(() => expect(location()).toBe('/synthwave'));
  });

  it('is not offered on one’s own channel, nor where no provider is configured', async () => {
    const calls = serve(route('GET', OFFER_PATH, { body: offer({ available: false }) }));
    renderApp(<SubscribeButton channel="synthwave" name="Synth Wave" />, {
      user: me('synthwave'),
    });
    expect(screen.queryByRole('button', { name: /Subscribe/ })).toBeNull();
    expect(calls).toHaveLength(0);
    render();
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(screen.queryByRole('button', { name: /Subscribe/ })).toBeNull();
  });

  it('shows a subscriber their tier, months, renewal date and a way to manage it', async () => {
    serve(
      route('GET', OFFER_PATH, {
        body: offer({ mine: { tier: 'tier2', status: 'active', months: 3 } }),
      }),
      route('GET', '/api/v1/me/subscriptions', {
        body: { items: [subscription({ tier: 'tier2', months: 3 })] },
      }),
    );
    render();
    const state = await screen.findByTestId('subscription-state');
    expect(state.textContent).toBe('★ Subscribed · Tier 2');
    await waitFor(() =>
      expect(screen.getByTestId('subscription-period').textContent).toBe(
        '3 months · Renews on Jan 5, 2027',
      ),
    );
    expect(screen.getByRole('link', { name: 'Manage subscription' }).getAttribute('href')).toBe(
      '/settings/subscriptions',
    );
    expect(screen.queryByRole('button', { name: /Subscribe/ })).toBeNull();
  });

  it('says when a canceled subscription ends', async () => {
    serve(
      route('GET', OFFER_PATH, {
        body: offer({ mine: { tier: 'tier1', status: 'canceled', months: 1 } }),
      }),
      route('GET', '/api/v1/me/subscriptions', {
        body: { items: [subscription({ status: 'canceled', cancelAtPeriodEnd: true })] },
      }),
    );
    render();
    await waitFor(() =>
      expect(screen.getByTestId('subscription-period').textContent).toBe(
        '1 month · Ends on Jan 5, 2027',
      ),
    );
  });

  it('offers Subscribe again once a subscription has expired', async () => {
    serve(
      route('GET', OFFER_PATH, {
        body: offer({ mine: { tier: 'tier1', status: 'expired', months: 1 } }),
      }),
    );
    render();
    await screen.findByRole('button', { name: 'Subscribe to Synth Wave' });
    expect(screen.queryByTestId('subscription-state')).toBeNull();
  });

  it('back from checkout, says it is finishing until the webhook made it active', async () => {
    let answers = 0;
    serve(
      route('GET', OFFER_PATH, () => {
        answers++;
        return {
          body: offer({
            mine: answers >= 3 ? { tier: 'tier1', status: 'active', months: 1 } : null,
          }),
        };
      }),
      route('GET', '/api/v1/me/subscriptions', { body: { items: [subscription()] } }),
    );
    const { location } = render('/synthwave?subscribed=1');
    expect((await screen.findByRole('status')).textContent).toBe('Finishing your subscription…');
    expect(screen.queryByRole('button', { name: /Subscribe/ })).toBeNull();
    const state = await screen.findByTestId('subscription-state', {}, { timeout: 5_000 });
    expect(state.textContent).toBe('★ Subscribed · Tier 1');
    expect(screen.getByRole('status').textContent).toBe(
      'You are subscribed to Synth Wave at Tier 1.',
    );
    await waitFor(() => expect(location()).toBe('/synthwave'));
    expect(answers).toBeGreaterThanOrEqual(3);
  });

  it('says so when the webhook has not come after a while, and can check again', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let active = false;
    serve(
      route('GET', OFFER_PATH, () => ({
        body: offer({ mine: active ? { tier: 'tier1', status: 'active', months: 1 } : null }),
      })),
      route('GET', '/api/v1/me/subscriptions', { body: { items: [subscription()] } }),
    );
    render('/synthwave?subscribed=1');
    await screen.findByText('Finishing your subscription…');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(FINISH_WAIT_MS + 100);
    });
    expect(screen.getByRole('status').textContent).toMatch(/not confirmed yet/);
    active = true;
    fireEvent.click(screen.getByRole('button', { name: 'Check again' }));
    expect((await screen.findByTestId('subscription-state')).textContent).toBe(
      '★ Subscribed · Tier 1',
    );
  });
});
