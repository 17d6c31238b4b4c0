import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import type { Notification } from '@neon/contracts';
import {
  useLazyNotificationsPageQuery,
  useMarkNotificationsReadMutation,
  useNotificationsQuery,
} from '../api/api';
import { messageFor } from '../api/errors';
import { notifyHidden } from './browser-notify';
import { useNotificationStream } from './stream';
import { channelPath, describe } from './text';
import { useToasts } from './Toasts';

/**
 * The header's bell: the unread count, and a list of the newest notifications
 * to open or mark read. The stream keeps both current and raises a toast for a
 * channel going live while the user browses.
 */
export function NotificationBell() {
  const { data, isError, refetch } = useNotificationsQuery();
  const [markRead] = useMarkNotificationsReadMutation();
  const { show, view } = useToasts();
  const navigate = useNavigate();
  const arrive = useCallback(
    (n: Notification) => {
      show(n);
      notifyHidden(n, (path) => void navigate(path));
    },
    [show, navigate],
  );
  useNotificationStream(arrive);
  const [open, setOpen] = useState(false);
  // Older pages, fetched on "Load more"; the first page stays the live one.
  const [older, setOlder] = useState<{ items: Notification[]; next: string | null } | null>(null);
  const [loadPage, page] = useLazyNotificationsPageQuery();
  const ref = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const location = useLocation();

  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent) {
        if (e.key !== 'Escape') return;
        setOpen(false);
        button.current?.focus();
      } else if (!ref.current?.contains(e.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  const unread = data?.unreadCount ?? 0;
  const first = data?.items ?? [];
  const shown = new Set(first.map((n) => n.id));
  const items = [...first, ...(older?.items ?? []).filter((n) => !shown.has(n.id))];
  const next = older ? older.next : (data?.nextCursor ?? null);

  async function loadMore() {
    if (!next) return;
    try {
      const p = await loadPage(next).unwrap();
      setOlder((o) => ({ items: [...(o?.items ?? []), ...p.items], next: p.nextCursor }));
    } catch {
      // The button stays; the error is said below it.
    }
  }
  function read(ids: string[] | 'all') {
    void markRead(ids === 'all' ? { all: true } : { ids });
    setOlder(
      (o) =>
        o && {
          ...o,
          items: o.items.map((n) =>
            ids === 'all' || ids.includes(n.id) ? { ...n, read: true } : n,
          ),
        },
    );
  }
  return (
    <div className="menu notifications" ref={ref}>
      <button
        ref={button}
        type="button"
        className="menu-button bell"
        aria-label={unread > 0 ? `Notifications, ${unread} unread` : 'Notifications'}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"
          />
        </svg>
        {unread > 0 && (
          <span className="bell-count" aria-hidden="true">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <section className="menu-list notification-list" aria-label="Notifications">
          <div className="row notification-head">
            <h2>Notifications</h2>
            <button type="button" disabled={unread === 0} onClick={() => read('all')}>
              Mark all read
            </button>
          </div>
          {isError ? (
            <div className="alert" role="alert">
              {messageFor('INTERNAL')}{' '}
              <button type="button" onClick={() => void refetch()}>
                Retry
              </button>
            </div>
          ) : items.length === 0 ? (
            <p className="muted">{data ? 'Nothing yet.' : 'Loading…'}</p>
          ) : (
            <ul>
              {items.map((n) => (
                <li key={n.id} className={n.read ? 'read' : 'unread'}>
                  <Link
                    to={channelPath(n)}
                    onClick={() => {
                      if (!n.read) read([n.id]);
                    }}
                  >
                    {!n.read && <span className="sr-only">Unread: </span>}
                    {describe(n)}
                  </Link>
                  {!n.read && (
                    <button
                      type="button"
                      aria-label={`Mark read: ${describe(n)}`}
                      onClick={() => read([n.id])}
                    >
                      ✓
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          {next && !isError && (
            <button
              type="button"
              className="link-button small"
              disabled={page.isFetching}
              onClick={() => void loadMore()}
            >
              {page.isFetching ? 'Loading…' : 'Load more'}
            </button>
          )}
          {page.isError && (
            <p className="alert small" role="alert">
              Could not load older notifications.
            </p>
          )}
        </section>
      )}
      {view}
    </div>
  );
}
