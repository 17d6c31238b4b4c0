// Applies the reader's chosen theme before the first paint (no flash of the
// other one). Without a choice the page follows the system setting.
try {
  var theme = localStorage.getItem('neon.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch (e) {
  // Storage blocked: the system setting applies.
}
