import { useEffect, useState } from 'react';
import { onSystemThemeChange, systemTheme, type Theme } from './theme';

/** The theme on screen: the one applied to <html>, else the system's. */
function shownTheme(): Theme {
  const applied = document.documentElement.dataset.theme;
  return applied === 'light' || applied === 'dark' ? applied : systemTheme();
}

/**
 * The theme on screen, kept current: a choice applied to <html> as
 * data-theme (by the toggle) or, without one, the system setting. For a
 * part that cannot follow the theme through CSS variables alone.
 */
export function useShownTheme(): Theme {
  const [theme, setTheme] = useState(shownTheme);
  useEffect(() => {
    const update = () => setTheme(shownTheme());
    const stopSystem = onSystemThemeChange(update);
    const observer = new MutationObserver(update);
    observer.observe(document.documentElement, {
      attributes: true,
      attributeFilter: ['data-theme'],
    });
    return () => {
      stopSystem();
      observer.disconnect();
    };
  }, []);
  return theme;
}
