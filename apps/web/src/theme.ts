/**
 * The colour theme. Without a choice the app follows the system setting
 * (prefers-color-scheme); a choice is kept in localStorage and applied as
 * data-theme on <html>, before the first paint by public/theme.js.
 */
export type Theme = 'light' | 'dark';

export const THEME_KEY = 'neon.theme';

const query = '(prefers-color-scheme: light)';

/** The theme the system setting asks for. */
export function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia(query).matches ? 'light' : 'dark';
}

/** The theme chosen by the reader, if any. */
export function chosenTheme(): Theme | null {
  try {
    const t = localStorage.getItem(THEME_KEY);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

/** The theme the page shows now. */
export function currentTheme(): Theme {
  return chosenTheme() ?? systemTheme();
}

/** Shows `theme` and remembers the choice. */
export function chooseTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage blocked: the choice lasts until the page closes.
  }
}

/** Calls `listener` when the system setting changes (it matters only without a choice). */
export function onSystemThemeChange(listener: () => void): () => void {
  if (typeof matchMedia !== 'function') return () => undefined;
  const list = matchMedia(query);
  list.addEventListener('change', listener);
  return () => list.removeEventListener('change', listener);
}
