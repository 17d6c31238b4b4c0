import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Provider } from 'react-redux';
import { Link, MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signedIn } from '../api/session';
import { createStore } from '../store';
import { me, serve } from '../test-utils';
import { Layout } from './Layout';

function renderLayout() {
  const store = createStore();
  store.dispatch(signedIn({ accessToken: 'token', expiresIn: 900, user: me('ada') }));
  render(
    <Provider store={store}>
      <MemoryRouter initialEntries={['/']}>
        <Routes>
          <Route element={<Layout />}>
            <Route
              index
              element={
                <>
                  <h1>First page</h1>
                  <Link to="/next">Go on</Link>
                </>
              }
            />
            <Route path="next" element={<h1>Second page</h1>} />
          </Route>
        </Routes>
      </MemoryRouter>
    </Provider>,
  );
}

describe('layout', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it('names the account button even where the name is hidden, and Escape returns to it', () => {
    serve();
    renderLayout();
    const button = screen.getByRole('button', { name: 'ada Account menu' });
    fireEvent.click(button);
    const item = screen.getByRole('menuitem', { name: 'Profile' });
    item.focus();
    fireEvent.keyDown(item, { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('moves focus to the new page’s heading after a navigation', async () => {
    serve();
    renderLayout();
    const link = screen.getByRole('link', { name: 'Go on' });
    link.focus();
    fireEvent.click(link);
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Second page' })),
    );
  });

  it('opens the account menu on its first item; arrow keys, Home and End move through it', () => {
    serve();
    renderLayout();
    fireEvent.click(screen.getByRole('button', { name: 'ada Account menu' }));
    const items = screen.getAllByRole('menuitem');
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(items[0]!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[1]);
    fireEvent.keyDown(items[1]!, { key: 'ArrowUp' });
    fireEvent.keyDown(items[0]!, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(items[items.length - 1]);
    fireEvent.keyDown(items[items.length - 1]!, { key: 'Home' });
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(items[0]!, { key: 'End' });
    expect(screen.getByRole('menuitem', { name: 'Log out' })).toBe(document.activeElement);
  });

  it('folds the sections into a Menu button that Escape closes', () => {
    serve();
    renderLayout();
    const menu = screen.getByRole('button', { name: 'Menu' });
    expect(menu.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(menu);
    expect(menu.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeTruthy();
    fireEvent.keyDown(document, { key: 'Escape' });
    expect(menu.getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(menu);
  });

  it('follows the system theme until the reader picks one, and remembers the pick', () => {
    serve();
    vi.stubGlobal(
      'matchMedia',
      vi.fn((query: string) => ({
        matches: query === '(prefers-color-scheme: light)',
        addEventListener: vi.fn(),
        removeEventListener: vi.fn(),
      })),
    );
    renderLayout();
    // The system asks for light: the page is light and the button offers dark.
    const toggle = screen.getByRole('button', { name: 'Switch to the dark theme' });
    expect(document.documentElement.dataset.theme).toBeUndefined();
    fireEvent.click(toggle);
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(localStorage.getItem('neon.theme')).toBe('dark');
    expect(screen.getByRole('button', { name: 'Switch to the light theme' })).toBe(toggle);
    delete document.documentElement.dataset.theme;
  });
});
