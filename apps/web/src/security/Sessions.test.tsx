import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionInfo } from '@neon/contracts';
import { me, problem, renderApp, route, serve } from '../test-utils';
import { ago, Sessions } from './Sessions';

const minutes = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const here: SessionInfo = {
  id: '0190a5b4-1c2d-7e8f-9a0b-000000000001',
  device: 'Firefox on Linux',
  createdAt: minutes(3 * 24 * 60),
  lastUsedAt: minutes(2),
  current: true,
};
const phone: SessionInfo = {
  id: '0190a5b4-1c2d-7e8f-9a0b-000000000002',
  device: 'Safari on iPhone',
  createdAt: minutes(26 * 60),
  lastUsedAt: minutes(5),
  current: false,
};
const laptop: SessionInfo = {
  id: '0190a5b4-1c2d-7e8f-9a0b-000000000003',
  device: 'Chrome on Windows',
  createdAt: minutes(10 * 24 * 60),
  lastUsedAt: minutes(3 * 60),
  current: false,
};

describe('Settings → Security: sessions', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('says times in words', () => {
    const now = Date.parse('2025-05-10T12:00:00.000Z');
    expect(ago('2025-05-10T11:59:30.000Z', now)).toBe('just now');
    expect(ago('2025-05-10T11:55:00.000Z', now)).toBe('5 minutes ago');
    expect(ago('2025-05-10T09:00:00.000Z', now)).toBe('3 hours ago');
    expect(ago('2025-05-09T11:00:00.000Z', now)).toBe('yesterday');
    expect(ago('2025-04-01T12:00:00.000Z', now)).toBe('on Apr 1, 2025');
  });

  it('lists each session with its device and times, this device marked and not signable out', async () => {
    serve(route('GET', '/api/v1/me/sessions', { body: { items: [here, phone, laptop] } }));
    renderApp(<Sessions />, { user: me('bob') });
    const mine = await screen.findByRole('listitem', { name: 'Firefox on Linux This device' });
    expect(mine.textContent).toMatch(/Signed in 3 days ago · Active now/);
    expect(within(mine).queryByRole('button')).toBeNull();
    const iphone = screen.getByRole('listitem', { name: 'Safari on iPhone' });
    expect(iphone.textContent).toMatch(/Signed in yesterday · Last active 5 minutes ago/);
    expect(screen.getByRole('listitem', { name: 'Chrome on Windows' }).textContent).toMatch(
      /Signed in on .* · Last active 3 hours ago/,
    );
    expect(within(iphone).getByRole('button', { name: 'Sign out Safari on iPhone…' })).toBeTruthy();
  });

  it('signs one session out after confirming', async () => {
    let items = [here, phone, laptop];
    const calls = serve(
      route('GET', '/api/v1/me/sessions', () => ({ body: { items } })),
      route('DELETE', `/api/v1/me/sessions/${phone.id}`, () => {
        items = [here, laptop];
        return { status: 204, body: null };
      }),
    );
    renderApp(<Sessions />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out Safari on iPhone…' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/Sign out Safari on iPhone\?/);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Keep' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Sign out Safari on iPhone…' }));
    fireEvent.click(
      within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Sign out' }),
    );
    expect(await screen.findByText('Signed out Safari on iPhone.')).toBeTruthy();
    await waitFor(() =>
      expect(screen.queryByRole('listitem', { name: 'Safari on iPhone' })).toBeNull(),
    );
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Sessions' })),
    );
  });

  it('asks for a second-factor code when the server wants one, then signs the others out', async () => {
    let items = [here, phone, laptop];
    let steppedUp = false;
    const calls = serve(
      route('GET', '/api/v1/me/sessions', () => ({ body: { items } })),
      route('POST', '/api/v1/me/sessions/revoke-others', () => {
        if (!steppedUp) return problem(403, 'AUTH_STEP_UP_REQUIRED');
        items = [here];
        return { body: { revoked: 2 } };
      }),
      route('POST', '/api/v1/auth/step-up', () => {
        steppedUp = true;
        return {
          body: {
            accessToken: 'stepped-up',
            expiresIn: 900,
            stepUpUntil: new Date(Date.now() + 600_000).toISOString(),
          },
        };
      }),
    );
    const { store } = renderApp(<Sessions />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out of all other sessions…' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/Sign out of all 2 other sessions\?/);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Sign out the others' }));

    fireEvent.change(await screen.findByLabelText('Authentication code'), {
      target: { value: '123456' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText('Signed out of all other sessions.')).toBeTruthy();
    expect(store.getState().session.accessToken).toBe('stepped-up');
    expect(calls.filter((c) => c.path === '/api/v1/me/sessions/revoke-others')).toHaveLength(2);
    expect(await screen.findByText('You are not signed in anywhere else.')).toBeTruthy();
    expect(screen.getAllByTestId('session')).toHaveLength(1);
    expect(screen.queryByLabelText('Authentication code')).toBeNull();
  });

  it('says so when the server refuses, and keeps the list', async () => {
    serve(
      route('GET', '/api/v1/me/sessions', { body: { items: [here, phone] } }),
      route('DELETE', `/api/v1/me/sessions/${phone.id}`, problem(503, 'SERVICE_UNAVAILABLE')),
    );
    renderApp(<Sessions />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out Safari on iPhone…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /Nothing was signed out: A Neon service is unavailable/,
    );
    expect(screen.getByRole('listitem', { name: 'Safari on iPhone' })).toBeTruthy();
  });
});
