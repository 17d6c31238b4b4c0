import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { me, problem, renderApp, route, serve } from '../test-utils';
import { NotificationSettings } from './NotificationSettings';

const toggle = () =>
  screen.getByRole<HTMLInputElement>('checkbox', {
    name: 'Tell me when a channel I follow goes live',
  });

describe('NotificationSettings', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('switches went-live notifications off and shows the saved state', async () => {
    const calls = serve(
      route('GET', '/api/v1/notifications/settings', {
        body: { wentLive: true, mutedChannels: [] },
      }),
      route('PATCH', '/api/v1/notifications/settings', (call) => ({
        body: { ...(call.body as { wentLive: boolean }), mutedChannels: [] },
      })),
    );
    renderApp(<NotificationSettings />, { user: me('bob') });
    await waitFor(() => expect(toggle().checked).toBe(true));
    fireEvent.click(toggle());
    await waitFor(() => expect(toggle().checked).toBe(false));
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ wentLive: false });
  });

  it('keeps the old state and says so when the change is refused', async () => {
    serve(
      route('GET', '/api/v1/notifications/settings', {
        body: { wentLive: true, mutedChannels: [] },
      }),
      route('PATCH', '/api/v1/notifications/settings', problem(500, 'INTERNAL')),
    );
    renderApp(<NotificationSettings />, { user: me('bob') });
    await waitFor(() => expect(toggle().checked).toBe(true));
    fireEvent.click(toggle());
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(toggle().checked).toBe(true);
  });
});
