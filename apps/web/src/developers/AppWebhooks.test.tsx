import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsoleEventSubSubscription, EventSubStatus, OAuthApp } from '@neon/contracts';
import { me, problem, renderApp, route, serve, type Call, type Handler } from '../test-utils';
import Developers from './Developers';

const APP: OAuthApp = {
  clientId: 'cid-tools',
  name: 'Stream Tools',
  redirectUris: ['https://tools.example/callback'],
  type: 'confidential',
  createdAt: '2025-03-01T10:00:00.000Z',
  secretRotatedAt: null,
};
const LIST = '/api/v1/eventsub/apps/cid-tools/subscriptions';

let n = 0;
function sub(
  status: EventSubStatus,
  over: Partial<ConsoleEventSubSubscription> = {},
): ConsoleEventSubSubscription {
  n += 1;
  return {
    id: `0190aaaa-0000-7000-8000-${String(n).padStart(12, '0')}`,
    status,
    type: 'stream.online',
    version: '1',
    condition: { broadcasterUserId: '0190bbbb-0000-7000-8000-000000000001' },
    transport: { method: 'webhook', callback: `https://hooks.example/neon/${n}` },
    createdAt: '2025-03-02T10:00:00.000Z',
    delivery: { failingSince: null, lastFailureAt: null, lastFailure: null, waiting: 0 },
    ...over,
  };
}

/** The gateway with one app and its webhooks, which DELETE removes; `pageSize` cuts pages. */
function server(initial: ConsoleEventSubSubscription[], pageSize = 100) {
  let subs = [...initial];
  const handlers: Handler[] = [
    route('GET', '/api/v1/oauth/apps', { body: { items: [APP] } }),
    (call: Call) => {
      if (call.method !== 'GET' || call.path !== LIST) return undefined;
      const from = Number(call.search.get('cursor') ?? 0);
      const items = subs.slice(from, from + pageSize);
      const next = from + pageSize < subs.length ? String(from + pageSize) : null;
      return { body: { items, total: subs.length, maxTotal: 1000, nextCursor: next } };
    },
    (call: Call) => {
      const m = new RegExp(`^${LIST}/([^/]+)$`).exec(call.path);
      if (call.method !== 'DELETE' || !m) return undefined;
      if (!subs.some((s) => s.id === m[1])) return problem(404, 'EVENTSUB_SUBSCRIPTION_NOT_FOUND');
      subs = subs.filter((s) => s.id !== m[1]);
      return { status: 204, body: null };
    },
  ];
  return {
    handlers,
    set: (next: ConsoleEventSubSubscription[]) => {
      subs = next;
    },
  };
}

async function openWebhooks() {
  const item = await screen.findByRole('listitem', { name: 'Stream Tools' });
  const toggle = within(item).getByRole('button', { name: 'Webhooks (EventSub)' });
  expect(toggle.getAttribute('aria-expanded')).toBe('false');
  fireEvent.click(toggle);
  expect(toggle.getAttribute('aria-expanded')).toBe('true');
  return screen.getByRole('region', { name: 'Webhooks (EventSub)' });
}

describe('an app’s webhooks in the developer console', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('asks for them only once opened, then lists each with its status in words and how delivery goes', async () => {
    const active = sub('enabled');
    const failing = sub('enabled', {
      type: 'channel.follow',
      delivery: {
        failingSince: '2025-03-03T08:00:00.000Z',
        lastFailureAt: '2025-03-03T09:30:00.000Z',
        lastFailure: 'answered 503',
        waiting: 2,
      },
    });
    const stopped = sub('notification_failures_exceeded', {
      delivery: {
        failingSince: null,
        lastFailureAt: '2025-03-04T09:30:00.000Z',
        lastFailure: 'connect ECONNREFUSED 203.0.113.5:443',
        waiting: 0,
      },
    });
    const calls = serve(...server([active, failing, stopped]).handlers);
    renderApp(<Developers />, { user: me('dev') });
    await screen.findByRole('listitem', { name: 'Stream Tools' });
    expect(calls.some((c) => c.path === LIST)).toBe(false);

    const section = await openWebhooks();
    const list = await within(section).findByRole('list');
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(within(section).getByText('3 of at most 1,000 subscriptions')).toBeTruthy();

    const first = within(list).getByRole('listitem', {
      name: `Stream goes live stream.online ${active.transport.callback}`,
    });
    expect(first.textContent).toContain('Active');
    expect(first.textContent).toContain(active.transport.callback);
    expect(first.textContent).toContain(active.condition.broadcasterUserId);
    expect(first.textContent).not.toContain('Failing since');

    const follow = within(list).getByRole('listitem', { name: /^New follower channel\.follow/ });
    expect(follow.textContent).toContain('Failing since');
    expect(follow.textContent).toContain('answered 503');
    expect(follow.textContent).toContain('2 messages not yet taken by the callback');

    const third = items[2]!;
    expect(third.textContent).toContain('Stopped: callback kept failing');
    expect(third.textContent).toContain('notification_failures_exceeded');
    expect(third.textContent).toContain('connect ECONNREFUSED 203.0.113.5:443');
    expect(third.textContent).toMatch(/Subscribe again once it answers/);
  });

  it('says when the app has none, and how to make one', async () => {
    serve(...server([]).handlers);
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    expect(await within(section).findByText(/No webhooks yet/)).toBeTruthy();
    expect(within(section).getByText('POST /public/v1/eventsub/subscriptions')).toBeTruthy();
    expect(within(section).getByRole('link', { name: 'how' }).getAttribute('href')).toBe(
      '/developers/docs',
    );
  });

  it('says so when the list cannot be loaded, and tries again', async () => {
    const ok = server([sub('enabled')]);
    let failing = true;
    serve(
      (call) => (failing && call.path === LIST ? problem(503, 'SERVICE_UNAVAILABLE') : undefined),
      ...ok.handlers,
    );
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    const alert = await within(section).findByRole('alert');
    expect(alert.textContent).toMatch(/Could not load the webhooks/);
    expect(alert.textContent).toMatch(/unavailable/);
    failing = false;
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await within(section).findByText('Active')).toBeTruthy();
  });

  it('explains an app the server does not know as this user’s (a 404)', async () => {
    serve(route('GET', LIST, problem(404, 'OAUTH_APP_NOT_FOUND')), ...server([]).handlers);
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    expect((await within(section).findByRole('alert')).textContent).toMatch(
      /application no longer exists/,
    );
  });

  it('deletes one only after confirming, says so, and puts focus on Refresh', async () => {
    const keep = sub('enabled');
    const gone = sub('webhook_callback_verification_failed');
    const calls = serve(...server([keep, gone]).handlers);
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    const name = `Delete the stream.online webhook to ${gone.transport.callback}…`;
    fireEvent.click(await within(section).findByRole('button', { name }));
    const dialog = within(section).getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/cannot be undone/);
    expect(document.activeElement).toBe(
      within(dialog).getByRole('button', { name: 'Delete webhook' }),
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    expect(document.activeElement).toBe(within(section).getByRole('button', { name }));

    fireEvent.click(within(section).getByRole('button', { name }));
    fireEvent.click(within(section).getByRole('button', { name: 'Delete webhook' }));
    await waitFor(() =>
      expect(within(section).getByRole('status').textContent).toBe(
        `Deleted the stream.online webhook to ${gone.transport.callback}.`,
      ),
    );
    await waitFor(() => expect(within(section).getAllByRole('listitem')).toHaveLength(1));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([
      `${LIST}/${gone.id}`,
    ]);
    await waitFor(() =>
      expect(document.activeElement).toBe(
        within(section).getByRole('button', { name: 'Refresh the webhooks of Stream Tools' }),
      ),
    );
  });

  it('shows a refused delete in the dialog', async () => {
    const s = sub('enabled');
    const srv = server([s]);
    serve(...srv.handlers);
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    fireEvent.click(await within(section).findByRole('button', { name: /^Delete the/ }));
    srv.set([]);
    fireEvent.click(within(section).getByRole('button', { name: 'Delete webhook' }));
    expect(
      (await within(within(section).getByRole('alertdialog')).findByRole('alert')).textContent,
    ).toBe('This webhook no longer exists. Refresh the list.');
  });

  it('refreshes on demand and says what changed', async () => {
    const pending = sub('webhook_callback_verification_pending');
    const srv = server([pending]);
    serve(...srv.handlers);
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    expect(await within(section).findByText('Verifying callback')).toBeTruthy();
    srv.set([{ ...pending, status: 'enabled' }]);
    fireEvent.click(
      within(section).getByRole('button', { name: 'Refresh the webhooks of Stream Tools' }),
    );
    expect(await within(section).findByText('Active')).toBeTruthy();
    await waitFor(() =>
      expect(within(section).getByRole('status').textContent).toBe('Refreshed: 1 active.'),
    );
  });

  it('pages through many', async () => {
    const subs = [sub('enabled'), sub('enabled'), sub('authorization_revoked')];
    const calls = serve(...server(subs, 2).handlers);
    renderApp(<Developers />, { user: me('dev') });
    const section = await openWebhooks();
    await waitFor(() => expect(within(section).getAllByRole('listitem')).toHaveLength(2));
    fireEvent.click(within(section).getByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(within(section).getAllByRole('listitem')).toHaveLength(3));
    expect(within(section).getByText('Stopped: authorization revoked')).toBeTruthy();
    expect(within(section).queryByRole('button', { name: 'Show more' })).toBeNull();
    expect(calls.filter((c) => c.path === LIST).map((c) => c.search.get('cursor'))).toEqual([
      null,
      '2',
    ]);
  });
});
