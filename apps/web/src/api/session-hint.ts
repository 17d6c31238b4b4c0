/**
 * Whether this browser may hold a refresh cookie. The cookie itself is
 * httpOnly, so the page cannot see it; without this flag every signed-out
 * visit would ask `POST /api/v1/auth/refresh` and log a 401. The flag is not a
 * credential: it only decides whether to ask, and a stale one costs one 401
 * after which it is cleared.
 */
const KEY = 'neon:signed-in';

export function hasSessionHint(): boolean {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    // Storage blocked: asking is the safe default (a session would otherwise be lost on reload).
    return true;
  }
}

export function setSessionHint(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(KEY, '1');
    else localStorage.removeItem(KEY);
  } catch {
    // Storage blocked: the app still works, it just asks on every load.
  }
}
