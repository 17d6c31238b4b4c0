import { useEffect, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { useMarkNotificationsReadMutation, useNotificationsQuery } from '../api/api';
import { messageFor } from '../api/errors';
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
  useNotificationStream(show);
  const [open, setOpen] = useState(false);
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
  const items = data?.items ?? [];
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
            <button
              type="button"
              disabled={unread === 0}
              onClick={() => void markRead({ all: true })}
            >
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
                      if (!n.read) void markRead({ ids: [n.id] });
                    }}
                  >
                    {!n.read && <span className="sr-only">Unread: </span>}
                    {describe(n)}
                  </Link>
                  {!n.read && (
                    <button
                      type="button"
                      aria-label={`Mark read: ${describe(n)}`}
                      onClick={() => void markRead({ ids: [n.id] })}
                    >
                      ✓
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {view}
    </div>
  );
}
