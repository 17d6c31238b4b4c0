import { useEffect, useRef, useState } from 'react';
import { useLocation } from 'react-router';

/** Re-renders every `ms` with the current time (live-duration counters). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/**
 * A heading that takes focus when it appears (a page reached from a mailed
 * link, a form replaced by its outcome), so a screen reader starts there.
 * Give the heading `tabIndex={-1}`. `key` moves focus again when it changes.
 */
export function useFocusHeading<T extends HTMLElement = HTMLHeadingElement>(key: unknown = null) {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [key]);
  return ref;
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Neon` : 'Neon';
  }, [title]);
}

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

/**
 * Focus for an inline dialog: on opening it moves into the dialog, Escape
 * closes it, and on closing it goes back to the control that opened it (which
 * may have been re-rendered meanwhile, hence a ref rather than a saved node).
 */
export function useDialogFocus<D extends HTMLElement, O extends HTMLElement>(
  open: boolean,
  close: () => void,
) {
  const dialog = useRef<D>(null);
  const opener = useRef<O>(null);
  const wasOpen = useRef(false);
  const closeRef = useRef(close);
  useEffect(() => {
    closeRef.current = close;
  });
  useEffect(() => {
    if (open) {
      wasOpen.current = true;
      const el = dialog.current;
      const target = el?.querySelector<HTMLElement>(FOCUSABLE) ?? el;
      target?.focus();
      const onKey = (e: KeyboardEvent) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          closeRef.current();
        }
      };
      document.addEventListener('keydown', onKey);
      return () => document.removeEventListener('keydown', onKey);
    }
    if (wasOpen.current) {
      wasOpen.current = false;
      opener.current?.focus();
    }
    return undefined;
  }, [open]);
  return { dialog, opener };
}

/**
 * After a navigation, moves focus to the new page's main heading (or the main
 * region until it appears), so a keyboard or screen-reader user starts at the
 * top of what changed instead of on a control of the previous page. The first
 * load is left alone: the browser already starts at the top.
 */
export function useRouteFocus(main: React.RefObject<HTMLElement | null>): void {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    const region = main.current;
    if (!region) return undefined;
    const toHeading = () => {
      const h = region.querySelector<HTMLElement>('h1');
      if (!h) return false;
      if (!h.hasAttribute('tabindex')) h.setAttribute('tabindex', '-1');
      h.focus();
      return true;
    };
    if (toHeading()) return undefined;
    region.focus();
    // Lazy pages and their data arrive later: follow until the heading shows, unless the user moved on.
    const watch = new MutationObserver(() => {
      if (document.activeElement !== region && document.activeElement !== document.body) {
        watch.disconnect();
        return;
      }
      if (toHeading()) watch.disconnect();
    });
    watch.observe(region, { childList: true, subtree: true });
    return () => watch.disconnect();
  }, [pathname, main]);
}
