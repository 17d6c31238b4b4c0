import { useEffect, useState } from 'react';
import { chooseTheme, currentTheme, onSystemThemeChange, type Theme } from '../theme';

const sun =
  'M12 7a5 5 0 1 0 0 10 5 5 0 0 0 0-10zm0-5 1.5 3h-3zm0 20-1.5-3h3zM2 12l3-1.5v3zm20 0-3 1.5v-3zM4.9 4.9l3.2 1.1-2.1 2.1zm14.2 14.2-3.2-1.1 2.1-2.1zM4.9 19.1 6 15.9l2.1 2.1zM19.1 4.9 18 8.1 15.9 6z';
const moon = 'M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5z';

/** Switches between the light and the dark theme; the choice is remembered. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(currentTheme);
  // Without a choice, the button follows the system setting as it changes.
  useEffect(() => onSystemThemeChange(() => setTheme(currentTheme())), []);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className="menu-button icon-button"
      aria-label={`Switch to the ${next} theme`}
      title={`Switch to the ${next} theme`}
      onClick={() => {
        chooseTheme(next);
        setTheme(next);
      }}
    >
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
        <path d={theme === 'dark' ? sun : moon} fill="currentColor" />
      </svg>
    </button>
  );
}
