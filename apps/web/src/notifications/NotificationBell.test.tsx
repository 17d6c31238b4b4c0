import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification, NotificationList } from '@neon/contracts';
import { me, renderApp, route, serve, type Call } from '../test-utils';
import { FakeEventSource } from './fake-event-source';
import { NotificationBell } from './NotificationBell';
import { STREAM_RETRY_MS } from './stream';
import { TOAST_MS } from './Toasts';

function note(id: string, over: Partial<Notification> = {}): Notification {
  return {
    id,
    kind: 'went_live',
    channel: 'grace',
    title: 'Compilers at night',
    role: null,
    link: '/grace',
    createdAt: '2025-01-01T00:00:00.000Z',
    read: false,
    ...over,
  };
}

/** The notify API: a list the test can change, tickets numbered in order. */
function notifyServer(initial: Notification[]) {
  const state = { items: initial };
  let tickets = 0;
  const list = (): NotificationList => ({
    items: state.items,
    nextCursor: null,
    unreadCount: state.items.filter((n) => !n.read).length,
  });
  const calls: Call[] = serve(
    route('POST', '/api/v1/auth/socket-ticket', () => ({
      body: { token: `ticket-${++tickets}`, expiresIn: 30 },
    })),
    route('GET', '/api/v1/notifications', () => ({ body: list() })),
    route('POST', '/api/v1/notifications/read', (call) => {
      const body = call.body as { ids?: string[]; all?: true };
      state.items = state.items.map((n) =>
        body.all || body.ids?.includes(n.id) ? { ...n, read: true } : n,
      );
      return { body: { unreadCount: list().unreadCount } };
    }),
  );
  return { state, calls };
}

const bell = () => screen.getByRole('button', { name: /^Notifications/ });

describe('NotificationBell', () => {
  beforeEach(() => {
    FakeEventSource.all = [];
    vi.stubGlobal('EventSource', FakeEventSource);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('shows the unread count and lists notifications newest first, each opening its channel', async () => {
    const { calls } = notifyServer([
      note('12', { channel: 'linus', title: 'Kernel review' }),
      note('11', { kind: 'role_granted', channel: 'ada', title: null, role: 'moderator' }),
      note('10', { read: true }),
    ]);
    const { location } = renderApp(<NotificationBell />, { user: me('bob') });
    await screen.findByRole('button', { name: 'Notifications, 2 unread' });
    fireEvent.click(bell());
    const list = screen.getByRole('region', { name: 'Notifications' });
    const rows = within(list)
      .getAllByRole('link')
      .map((a) => [a.textContent, a.getAttribute('href')]);
    expect(rows).toEqual([
      ['Unread: linus went live: Kernel review', '/linus'],
      ['Unread: ada made you a moderator', '/ada'],
      ['grace went live: Compilers at night', '/grace'],
    ]);

    fireEvent.click(screen.getByRole('button', { name: 'Mark read: ada made you a moderator' }));
    await screen.findByRole('button', { name: 'Notifications, 1 unread' });
    expect(calls.find((c) => c.path === '/api/v1/notifications/read')?.body).toEqual({
      ids: ['11'],
    });

    fireEvent.click(within(list).getByRole('link', { name: /linus went live/ }));
    await waitFor(() => expect(location()).toBe('/linus'));
    await screen.findByRole('button', { name: 'Notifications' });
  });

  it('loads older notifications on "Load more" until there are no more', async () => {
    const older = [note('3', { channel: 'ada' }), note('2', { channel: 'ada', read: true })];
    const calls = serve(
      route('POST', '/api/v1/auth/socket-ticket', { body: { token: 't', expiresIn: 30 } }),
      route('GET', '/api/v1/notifications', (call) =>
        call.search.get('cursor') === '4'
          ? { body: { items: older, nextCursor: null, unreadCount: 2 } }
          : { body: { items: [note('5'), note('4')], nextCursor: '4', unreadCount: 3 } },
      ),
      route('POST', '/api/v1/notifications/read', { body: { unreadCount: 2 } }),
    );
    renderApp(<NotificationBell />, { user: me('bob') });
    await screen.findByRole('button', { name: 'Notifications, 3 unread' });
    fireEvent.click(bell());
    const list = screen.getByRole('region', { name: 'Notifications' });
    expect(within(list).getAllByRole('link')).toHaveLength(2);
    fireEvent.click(within(list).getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(within(list).getAllByRole('link')).toHaveLength(4));
    expect(within(list).getAllByRole('link')[2]?.textContent).toBe(
      'Unread: ada went live: Compilers at night',
    );
    expect(within(list).queryByRole('button', { name: 'Load more' })).toBeNull();
    // An older one is marked read like the others.
    fireEvent.click(
      within(list).getByRole('button', { name: 'Mark read: ada went live: Compilers at night' }),
    );
    await waitFor(() =>
      expect(within(list).getAllByRole('link')[2]?.textContent).toBe(
        'ada went live: Compilers at night',
      ),
    );
    expect(calls.filter((c) => c.path === '/api/v1/notifications/read').at(-1)?.body).toEqual({
      ids: ['3'],
    });
  });

  it('marks all read at once', async () => {
    const { calls } = notifyServer([note('2'), note('1')]);
    renderApp(<NotificationBell />, { user: me('bob') });
    await screen.findByRole('button', { name: 'Notifications, 2 unread' });
    fireEvent.click(bell());
    fireEvent.click(screen.getByRole('button', { name: 'Mark all read' }));
    await screen.findByRole('button', { name: 'Notifications' });
    expect(screen.queryByText(/Unread:/)).toBeNull();
    expect(calls.find((c) => c.path === '/api/v1/notifications/read')?.body).toEqual({
      all: true,
    });
  });

  it('adds a pushed notification to the top, counts it and toasts a channel going live', async () => {
    notifyServer([note('1', { read: true })]);
    renderApp(<NotificationBell />, { user: me('bob') });
    await screen.findByRole('button', { name: 'Notifications' });
    await waitFor(() => expect(FakeEventSource.all).toHaveLength(1));
    const source = FakeEventSource.all[0]!;
    expect(source.token()).toBe('ticket-1');
    source.open();
    source.push(note('2', { channel: 'linus', title: 'Kernel review' }));
    source.push(note('2', { channel: 'linus', title: 'Kernel review' }));

    // The store tells its readers on the next frame (RTK's auto-batching): wait for it.
    await screen.findByRole('button', { name: 'Notifications, 1 unread' });
    const toast = screen.getByRole('status');
    const link = within(toast).getByRole('link', { name: 'linus went live: Kernel review' });
    expect(link.getAttribute('href')).toBe('/linus');
    fireEvent.click(bell());
    const first = within(screen.getByRole('region', { name: 'Notifications' })).getAllByRole(
      'link',
    )[0];
    expect(first?.textContent).toBe('Unread: linus went live: Kernel review');

    source.push(note('3', { kind: 'role_granted', channel: 'ada', title: null, role: 'vip' }));
    await screen.findByRole('button', { name: 'Notifications, 2 unread' });
    // Only channels going live are toasted.
    expect(within(screen.getByRole('status')).getAllByRole('link')).toHaveLength(1);
  });

  it('takes a toast away by itself after a while', async () => {
    notifyServer([]);
    renderApp(<NotificationBell />, { user: me('bob') });
    await waitFor(() => expect(FakeEventSource.all).toHaveLength(1));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    FakeEventSource.all[0]!.push(note('5'));
    expect(within(screen.getByRole('status')).queryByRole('link')).toBeTruthy();
    await act(() => vi.advanceTimersByTimeAsync(TOAST_MS));
    expect(within(screen.getByRole('status')).queryByRole('link')).toBeNull();
  });

  it('reconnects after an error with a fresh ticket and fetches what it missed', async () => {
    const { state, calls } = notifyServer([note('1')]);
    renderApp(<NotificationBell />, { user: me('bob') });
    await screen.findByRole('button', { name: 'Notifications, 1 unread' });
    await waitFor(() => expect(FakeEventSource.all).toHaveLength(1));
    FakeEventSource.all[0]!.open();

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    FakeEventSource.all[0]!.fail();
    expect(FakeEventSource.all[0]!.readyState).toBe(FakeEventSource.CLOSED);
    // Stored while no stream was open: no stream will replay it.
    state.items = [note('2', { channel: 'linus' }), ...state.items];
    await act(() => vi.advanceTimersByTimeAsync(STREAM_RETRY_MS));
    vi.useRealTimers();

    await waitFor(() => expect(FakeEventSource.all).toHaveLength(2));
    expect(FakeEventSource.all[1]!.token()).toBe('ticket-2');
    FakeEventSource.all[1]!.open();
    await screen.findByRole('button', { name: 'Notifications, 2 unread' });
    expect(calls.filter((c) => c.path === '/api/v1/notifications')).toHaveLength(2);
  });
});
