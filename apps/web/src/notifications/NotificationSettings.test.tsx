import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { me, problem, renderApp, route, serve } from '../test-utils';
import { MuteButton } from './MuteButton';
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

  it('lists muted channels and unmutes one', async () => {
    const calls = serve(
      route('GET', '/api/v1/notifications/settings', {
        body: { wentLive: true, mutedChannels: ['ada', 'linus'] },
      }),
      route('DELETE', '/api/v1/notifications/settings/mutes/ada', {
        body: { wentLive: true, mutedChannels: ['linus'] },
      }),
    );
    renderApp(<NotificationSettings />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Unmute ada' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Unmute ada' })).toBeNull());
    expect(screen.getByRole('button', { name: 'Unmute linus' })).toBeTruthy();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(true);
  });

  it('mutes and unmutes a followed channel from its button', async () => {
    let muted: string[] = [];
    serve(
      route('GET', '/api/v1/notifications/settings', () => ({
        body: { wentLive: true, mutedChannels: muted },
      })),
      (call) => {
        if (call.path !== '/api/v1/notifications/settings/mutes/ada') return undefined;
        muted = call.method === 'PUT' ? ['ada'] : [];
        return { body: { wentLive: true, mutedChannels: muted } };
      },
    );
    renderApp(<MuteButton channel="ada" />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Mute go-live alerts' }));
    const on = await screen.findByRole('button', { name: 'Unmute go-live alerts' });
    expect(on.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(on);
    await screen.findByRole('button', { name: 'Mute go-live alerts' });
  });

  it('turns on browser notifications only once the browser allows them', async () => {
    let permission: NotificationPermission = 'default';
    const requestPermission = vi.fn(async () => permission);
    vi.stubGlobal(
      'Notification',
      Object.assign(function Notification() {}, {
        get permission() {
          return permission;
        },
        requestPermission,
      }),
    );
    serve(
      route('GET', '/api/v1/notifications/settings', {
        body: { wentLive: true, mutedChannels: [] },
      }),
    );
    renderApp(<NotificationSettings />, { user: me('bob') });
    const box = await screen.findByRole<HTMLInputElement>('checkbox', {
      name: 'Also show a browser notification when this tab is in the background',
    });
    permission = 'denied';
    fireEvent.click(box);
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(box.checked).toBe(false);
    permission = 'granted';
    fireEvent.click(box);
    await waitFor(() => expect(box.checked).toBe(true));
    expect(localStorage.getItem('neon:browser-notifications')).toBe('1');
    localStorage.clear();
  });
});
