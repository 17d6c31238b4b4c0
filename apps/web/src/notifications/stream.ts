import { useEffect, useRef } from 'react';
import type { Notification } from '@neon/contracts';
import { api } from '../api/api';
import { useAppDispatch, useSession } from '../store';

/** The stream's own `retry:`; EventSource does not expose it, so a manual reconnect waits as long. */
export const STREAM_RETRY_MS = 3000;

/**
 * Keeps the header's notification list current from the notification stream
 * and calls `onArrive` once for each notification pushed while the page is open.
 *
 * A socket ticket works once, so EventSource's own reconnect (same URL) would
 * only be refused: every error closes the stream and a new one opens with a
 * fresh ticket after the retry delay. Without EventSource's Last-Event-ID
 * nothing missed in between is replayed, so the list is fetched again as soon
 * as the new stream is open.
 */
export function useNotificationStream(onArrive: (n: Notification) => void) {
  const dispatch = useAppDispatch();
  const { user } = useSession();
  const userId = user?.id ?? null;
  const arrive = useRef(onArrive);
  useEffect(() => {
    arrive.current = onArrive;
  }, [onArrive]);

  useEffect(() => {
    // Without EventSource (an old browser, a test page) the list still works, only not live.
    if (!userId || typeof EventSource === 'undefined') return;
    let disposed = false;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let reconnecting = false;
    const seen = new Set<string>();

    const later = () => {
      reconnecting = true;
      retry = setTimeout(() => void open(), STREAM_RETRY_MS);
    };

    const open = async () => {
      const token = await dispatch(api.endpoints.socketTicket.initiate())
        .unwrap()
        .then((t) => t.token)
        .catch(() => null);
      if (disposed) return;
      if (!token) return later();
      const es = new EventSource(`/api/v1/notifications/stream?token=${encodeURIComponent(token)}`);
      source = es;
      es.onopen = () => {
        if (!reconnecting) return;
        reconnecting = false;
        void dispatch(
          api.endpoints.notifications.initiate(undefined, { forceRefetch: true, subscribe: false }),
        );
      };
      es.addEventListener('notification', (e: MessageEvent<string>) => {
        let n: Notification;
        try {
          n = JSON.parse(e.data) as Notification;
        } catch {
          return;
        }
        if (seen.has(n.id)) return;
        seen.add(n.id);
        let known = false;
        dispatch(
          api.util.updateQueryData('notifications', undefined, (list) => {
            known = list.items.some((i) => i.id === n.id);
            if (known) return;
            list.items.unshift(n);
            list.items.sort((a, b) => compareIds(b.id, a.id));
            if (!n.read) list.unreadCount += 1;
          }),
        );
        if (!known) arrive.current(n);
      });
      es.onerror = () => {
        if (disposed || source !== es) return;
        es.close();
        source = null;
        later();
      };
    };

    void open();
    return () => {
      disposed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [userId, dispatch]);
}

/** Ids are decimal and grow with time: a longer one is newer. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
