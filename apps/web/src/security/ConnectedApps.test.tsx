import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectedApp } from '@neon/contracts';
import { me, problem, renderApp, route, serve, type Answer } from '../test-utils';
import { ConnectedApps } from './ConnectedApps';

const tools: ConnectedApp = {
  grantId: '0190a5b4-1c2d-7e8f-9a0b-1c2d3e4f5a6b',
  clientId: 'cid-tools',
  appName: 'Stream Tools',
  scopes: ['user:read:email', 'channel:read:followers'],
  authorizedAt: '2025-05-04T12:00:00.000Z',
};
const bot: ConnectedApp = {
  grantId: '0190a5b4-1c2d-7e8f-9a0b-000000000002',
  clientId: 'cid-bot',
  appName: 'Chat Bot',
  scopes: [],
  authorizedAt: '2025-05-01T12:00:00.000Z',
};

describe('Settings → Security: connected apps', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('lists the apps with their permissions in words and the date they were allowed', async () => {
    serve(route('GET', '/api/v1/oauth/connections', { body: { items: [tools, bot] } }));
    renderApp(<ConnectedApps />, { user: me('viewer') });
    const item = await screen.findByRole('listitem', { name: 'Stream Tools' });
    const can = within(item).getByRole('list', { name: 'It can:' });
    expect(
      within(can)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['See your email address', 'See who follows your channel']);
    expect(item.textContent).toContain('Connected on May 4, 2025');
    expect(screen.getByRole('listitem', { name: 'Chat Bot' }).textContent).toMatch(
      /no permissions beyond knowing who you are/,
    );
  });

  it('disconnects after confirming, removing the app at once', async () => {
    let answer!: (a: Awaited<Answer>) => void;
    let items = [tools, bot];
    const calls = serve(
      route('GET', '/api/v1/oauth/connections', () => ({ body: { items } })),
      route(
        'DELETE',
        `/api/v1/oauth/connections/${tools.grantId}`,
        () =>
          new Promise((resolve) => {
            answer = resolve;
          }),
      ),
    );
    renderApp(<ConnectedApps />, { user: me('viewer') });
    fireEvent.click(await screen.findByRole('button', { name: 'Disconnect Stream Tools…' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/loses access to your account at once/);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Keep' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Disconnect Stream Tools…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Disconnect' }));
    // Gone while the server is still answering.
    await waitFor(() =>
      expect(screen.queryByRole('listitem', { name: 'Stream Tools' })).toBeNull(),
    );
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    items = [bot];
    answer({ status: 204, body: null });
    expect(await screen.findByText('Disconnected Stream Tools.')).toBeTruthy();
    expect(screen.getByRole('listitem', { name: 'Chat Bot' })).toBeTruthy();
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Connected apps' })),
    );
  });

  it('puts the app back and says so when the server refuses', async () => {
    serve(
      route('GET', '/api/v1/oauth/connections', { body: { items: [tools] } }),
      route(
        'DELETE',
        `/api/v1/oauth/connections/${tools.grantId}`,
        problem(503, 'SERVICE_UNAVAILABLE'),
      ),
    );
    renderApp(<ConnectedApps />, { user: me('viewer') });
    fireEvent.click(await screen.findByRole('button', { name: 'Disconnect Stream Tools…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Disconnect' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /Stream Tools is still connected: A Neon service is unavailable/,
    );
    expect(await screen.findByRole('listitem', { name: 'Stream Tools' })).toBeTruthy();
  });

  it('says when no app is connected', async () => {
    serve(route('GET', '/api/v1/oauth/connections', { body: { items: [] } }));
    renderApp(<ConnectedApps />, { user: me('viewer') });
    expect(await screen.findByText('No apps are connected to your account.')).toBeTruthy();
  });
});
