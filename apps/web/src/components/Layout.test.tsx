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
    const button = screen.getByRole('button', { name: 'ada, account menu' });
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
});
