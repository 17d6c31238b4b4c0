import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { Notification } from '@neon/contracts';
import { channelPath, describe } from './text';

/** How long a went-live toast stays up. */
export const TOAST_MS = 8000;
/** Toasts shown at once; a burst of channels going live drops the oldest. */
const MAX_TOASTS = 3;

function Toast({ n, onClose }: { n: Notification; onClose: (id: string) => void }) {
  useEffect(() => {
    const t = setTimeout(() => onClose(n.id), TOAST_MS);
    return () => clearTimeout(t);
  }, [n.id, onClose]);
  return (
    <div className="toast">
      <Link to={channelPath(n)} onClick={() => onClose(n.id)}>
        {describe(n)}
      </Link>
      <button
        type="button"
        className="toast-close"
        aria-label="Dismiss"
        onClick={() => onClose(n.id)}
      >
        ×
      </button>
    </div>
  );
}

/** Went-live toasts; `show` adds one. The region is always there so screen readers hear additions. */
export function useToasts() {
  const [toasts, setToasts] = useState<Notification[]>([]);
  const close = useCallback((id: string) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const show = useCallback((n: Notification) => {
    if (n.kind !== 'went_live') return;
    setToasts((t) => [...t.filter((x) => x.id !== n.id), n].slice(-MAX_TOASTS));
  }, []);
  const view = (
    <div className="toasts" role="status" aria-label="Live now">
      {toasts.map((n) => (
        <Toast key={n.id} n={n} onClose={close} />
      ))}
    </div>
  );
  return { show, view };
}
