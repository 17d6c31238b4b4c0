import type { Notification as NeonNotification } from '@neon/contracts';
import { describe } from './text';

/** Whether the user asked for system notifications while the tab is hidden (this browser only). */
const KEY = 'neon:browser-notifications';

export function browserNotificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function browserNotificationsOn(): boolean {
  return (
    browserNotificationsSupported() &&
    Notification.permission === 'granted' &&
    localStorage.getItem(KEY) === '1'
  );
}

/** Asks the browser's permission when turning on; true when they are on afterwards. */
export async function setBrowserNotifications(on: boolean): Promise<boolean> {
  if (!on || !browserNotificationsSupported()) {
    localStorage.removeItem(KEY);
    return false;
  }
  const permission =
    Notification.permission === 'default'
      ? await Notification.requestPermission()
      : Notification.permission;
  if (permission !== 'granted') {
    localStorage.removeItem(KEY);
    return false;
  }
  localStorage.setItem(KEY, '1');
  return true;
}

/**
 * A went-live notification as a system notification, when the user opted in
 * and the tab is hidden (a visible tab shows the toast instead). Clicking it
 * brings the tab back and opens the channel.
 */
export function notifyHidden(n: NeonNotification, open: (path: string) => void): void {
  if (n.kind !== 'went_live' || !document.hidden || !browserNotificationsOn()) return;
  const shown = new Notification(describe(n), { tag: `neon-${n.id}` });
  shown.onclick = () => {
    window.focus();
    open(n.link);
    shown.close();
  };
}
