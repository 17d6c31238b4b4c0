import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Provider } from 'react-redux';
import { Link, MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OAuthApp } from '@neon/contracts';
import { signedIn } from '../api/session';
import { createStore } from '../store';
import { me, problem, renderApp, route, serve, type Call } from '../test-utils';
import Developers from './Developers';

const SECRET = 'sEcReT-0123456789abcdefghijklmnopqrstuvwxy';
const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
const errorOf = (label: string) => {
  const ids = screen.getByLabelText(label).getAttribute('aria-describedby')?.split(' ') ?? [];
  return (
    ids.map((id) => document.getElementById(id)).find((e) => e?.classList.contains('field-error'))
      ?.textContent ?? null
  );
};

function app(name: string, over: Partial<OAuthApp> = {}): OAuthApp {
  return {
    clientId: `cid-${name.toLowerCase().replace(/\W+/g, '-')}`,
    name,
    redirectUris: ['https://tools.example/callback'],
    type: 'confidential',
    createdAt: '2025-03-01T10:00:00.000Z',
    secretRotatedAt: null,
    ...over,
  };
}

/** A server holding a list of apps that create, edit, rotate and delete change. */
function console_(initial: OAuthApp[] = []) {
  let apps = [...initial];
  return {
    apps: () => apps,
    handlers: [
      route('GET', '/api/v1/oauth/apps', () => ({ body: { items: apps } })),
      route('POST', '/api/v1/oauth/apps', (call: Call) => {
        const body = call.body as Pick<OAuthApp, 'name' | 'redirectUris' | 'type'>;
        const created = app(body.name, { redirectUris: body.redirectUris, type: body.type });
        apps = [...apps, created];
        return {
          status: 201,
          body: { ...created, clientSecret: body.type === 'confidential' ? SECRET : null },
        };
      }),
      (call: Call) => {
        const m = /^\/api\/v1\/oauth\/apps\/([^/]+)(\/secret)?$/.exec(call.path);
        const found = m && apps.find((a) => a.clientId === m[1]);
        if (!m || !found) return undefined;
        if (call.method === 'POST' && m[2]) {
          const rotated = { ...found, secretRotatedAt: '2025-04-01T10:00:00.000Z' };
          apps = apps.map((a) => (a === found ? rotated : a));
          return { body: { ...rotated, clientSecret: `${SECRET}-new` } };
        }
        if (call.method === 'PATCH') {
          const changed = { ...found, ...(call.body as Partial<OAuthApp>) };
          apps = apps.map((a) => (a === found ? changed : a));
          return { body: changed };
        }
        if (call.method === 'DELETE') {
          apps = apps.filter((a) => a !== found);
          return { status: 204, body: null };
        }
        return undefined;
      },
    ],
  };
}

describe('developer console', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('registers a confidential app and shows its secret once, with a copy button and a warning', async () => {
    const server = console_();
    const calls = serve(...server.handlers);
    const { store } = renderApp(<Developers />, { user: me('dev') });
    expect(await screen.findByText(/not registered an application yet/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Register an application' }));
    expect(document.activeElement).toBe(
      screen.getByRole('heading', { name: 'Register an application' }),
    );
    type('Name', '  Stream Tools ');
    type('Redirect URI 1', 'https://tools.example/callback');
    fireEvent.click(screen.getByRole('button', { name: 'Add a redirect URI' }));
    expect(document.activeElement).toBe(screen.getByLabelText('Redirect URI 2'));
    type('Redirect URI 2', 'http://127.0.0.1:8000/cb');
    expect(screen.getByLabelText<HTMLInputElement>('Confidential').checked).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));

    const notice = await screen.findByRole('region', { name: 'Client secret of Stream Tools' });
    expect(within(notice).getByTestId('client-secret').textContent).toBe(SECRET);
    expect(notice.textContent).toMatch(/will not be shown again/);
    expect(within(notice).getByRole('button', { name: 'Copy Client secret' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'Stream Tools',
      redirectUris: ['https://tools.example/callback', 'http://127.0.0.1:8000/cb'],
      type: 'confidential',
    });
    // The list asks again and shows the app, its client id and its redirect URIs, never the secret.
    const item = await screen.findByRole('listitem', { name: 'Stream Tools' });
    expect(within(item).getByTestId('client-id').textContent).toBe('cid-stream-tools');
    expect(
      within(item).getByRole('button', { name: 'Copy Client ID of Stream Tools' }),
    ).toBeTruthy();
    expect(within(item).getByText('http://127.0.0.1:8000/cb')).toBeTruthy();
    expect(item.textContent).not.toContain(SECRET);

    fireEvent.click(screen.getByRole('button', { name: 'I have saved the secret' }));
    expect(screen.queryByText(SECRET)).toBeNull();
    expect(JSON.stringify(store.getState())).not.toContain(SECRET);
  });

  it('copies the secret to the clipboard', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    serve(...console_().handlers);
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Register an application' }));
    type('Name', 'Clip');
    type('Redirect URI 1', 'https://clip.example/cb');
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Copy Client secret' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(SECRET));
    expect(await screen.findByText('Client secret copied')).toBeTruthy();
  });

  it('forgets the secret when the user leaves the page', async () => {
    serve(...console_().handlers);
    const store = createStore();
    store.dispatch(signedIn({ accessToken: 'token', expiresIn: 900, user: me('dev') }));
    render(
      <Provider store={store}>
        <MemoryRouter initialEntries={['/developers']}>
          <Routes>
            <Route
              path="/developers"
              element={
                <>
                  <Developers />
                  <Link to="/elsewhere">Leave</Link>
                </>
              }
            />
            <Route path="/elsewhere" element={<Link to="/developers">Back to the console</Link>} />
          </Routes>
        </MemoryRouter>
      </Provider>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Register an application' }));
    type('Name', 'Once');
    type('Redirect URI 1', 'https://once.example/cb');
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    expect((await screen.findByTestId('client-secret')).textContent).toBe(SECRET);

    fireEvent.click(screen.getByRole('link', { name: 'Leave' }));
    fireEvent.click(await screen.findByRole('link', { name: 'Back to the console' }));
    expect(await screen.findByRole('listitem', { name: 'Once' })).toBeTruthy();
    expect(screen.queryByTestId('client-secret')).toBeNull();
    expect(screen.queryByText(SECRET)).toBeNull();
    expect(JSON.stringify(store.getState())).not.toContain(SECRET);
  });

  it('registers a public client, which has no secret', async () => {
    const calls = serve(...console_().handlers);
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Register an application' }));
    type('Name', 'Phone App');
    type('Redirect URI 1', 'https://phone.example/cb');
    fireEvent.click(screen.getByLabelText('Public'));
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    const notice = await screen.findByRole('region', { name: 'Phone App is registered' });
    expect(notice.textContent).toMatch(/has no secret/);
    expect(within(notice).getByTestId('new-client-id').textContent).toBe('cid-phone-app');
    expect(screen.queryByTestId('client-secret')).toBeNull();
    expect((calls.find((c) => c.method === 'POST')?.body as { type: string }).type).toBe('public');
    const item = await screen.findByRole('listitem', { name: 'Phone App' });
    expect(within(item).queryByRole('button', { name: /New secret/ })).toBeNull();
  });

  it('rotates a secret only after confirming, and shows the new one once', async () => {
    const server = console_([app('Stream Tools')]);
    const calls = serve(...server.handlers);
    const { store } = renderApp(<Developers />, { user: me('dev') });
    const rotate = await screen.findByRole('button', { name: 'New secret for Stream Tools…' });
    fireEvent.click(rotate);
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/current secret stops working at once/);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.path.endsWith('/secret'))).toBe(false);
    expect(screen.queryByRole('alertdialog')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'New secret for Stream Tools…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Generate a new secret' }));
    const notice = await screen.findByRole('region', { name: 'Client secret of Stream Tools' });
    expect(within(notice).getByTestId('client-secret').textContent).toBe(`${SECRET}-new`);
    expect(
      calls.filter((c) => c.path === '/api/v1/oauth/apps/cid-stream-tools/secret'),
    ).toHaveLength(1);
    expect(JSON.stringify(store.getState())).not.toContain(SECRET);
    await waitFor(() => expect(screen.getByText(/secret last changed/)).toBeTruthy());
  });

  it('deletes an app only after confirming', async () => {
    const server = console_([app('Old Bot'), app('Keeper')]);
    const calls = serve(...server.handlers);
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete Old Bot…' }));
    expect(screen.getByRole('alertdialog').textContent).toMatch(/Every user connected to it/);
    fireEvent.click(screen.getByRole('button', { name: 'Delete application' }));
    expect(await screen.findByText('Deleted Old Bot.')).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Old Bot' })).toBeNull());
    expect(screen.getByRole('listitem', { name: 'Keeper' })).toBeTruthy();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([
      '/api/v1/oauth/apps/cid-old-bot',
    ]);
    await waitFor(() =>
      expect(document.activeElement).toBe(
        screen.getByRole('heading', { name: 'Your applications' }),
      ),
    );
  });

  it('edits the name and redirect URIs', async () => {
    const server = console_([app('Stream Tools')]);
    const calls = serve(...server.handlers);
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Stream Tools' }));
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    expect(screen.queryByLabelText('Public')).toBeNull();
    type('Name', 'Stream Tools 2');
    fireEvent.click(screen.getByRole('button', { name: 'Add a redirect URI' }));
    type('Redirect URI 2', 'https://tools.example/other');
    fireEvent.click(screen.getByRole('button', { name: 'Remove redirect URI 1' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByRole('listitem', { name: 'Stream Tools 2' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      name: 'Stream Tools 2',
      redirectUris: ['https://tools.example/other'],
    });
    expect(screen.getByText('Saved Stream Tools 2.')).toBeTruthy();
  });

  it('checks the form before sending', async () => {
    const calls = serve(...console_().handlers);
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Register an application' }));
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    expect(errorOf('Name')).toBe('Give the application a name.');
    expect(screen.getByText('Add at least one redirect URI.')).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Name')));
    type('Name', 'x');
    type('Redirect URI 1', 'tools.example/cb');
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    expect(errorOf('Redirect URI 1')).toMatch(/must be a full address/);
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('puts the server’s 400 next to the field and the row it names', async () => {
    const calls = serve(
      ...console_().handlers.slice(0, 1),
      route(
        'POST',
        '/api/v1/oauth/apps',
        problem(400, 'OAUTH_REDIRECT_URI_INVALID', [
          {
            field: 'body.redirectUris.1',
            message: 'must be https (plain http only to 127.0.0.1, [::1] or localhost)',
          },
        ]),
      ),
    );
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Register an application' }));
    type('Name', 'Tools');
    type('Redirect URI 1', 'https://tools.example/cb');
    fireEvent.click(screen.getByRole('button', { name: 'Add a redirect URI' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add a redirect URI' }));
    // Row 2 stays blank: the second URI sent is the third row.
    type('Redirect URI 3', 'http://tools.example/cb');
    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(errorOf('Redirect URI 3')).toBe(
        'Redirect URI 3 must be https (plain http only to 127.0.0.1, [::1] or localhost).',
      ),
    );
    expect(errorOf('Redirect URI 1')).toBeNull();
    expect(screen.getByLabelText('Redirect URI 3').getAttribute('aria-invalid')).toBe('true');
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByLabelText('Redirect URI 3')),
    );
    expect(
      (calls.find((c) => c.method === 'POST')?.body as { redirectUris: string[] }).redirectUris,
    ).toEqual(['https://tools.example/cb', 'http://tools.example/cb']);
    // Fixing the row clears its message; the form stays open and no secret was shown.
    type('Redirect URI 3', 'https://tools.example/cb2');
    expect(errorOf('Redirect URI 3')).toBeNull();
    expect(screen.queryByTestId('client-secret')).toBeNull();
  });

  it('shows a name the server refuses at the name field', async () => {
    serve(
      ...console_([app('Tools')]).handlers.slice(0, 1),
      route(
        'PATCH',
        '/api/v1/oauth/apps/cid-tools',
        problem(400, 'VALIDATION_FAILED', [{ field: 'body.name', message: 'must not be blank' }]),
      ),
    );
    renderApp(<Developers />, { user: me('dev') });
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Tools' }));
    type('Name', 'Tools\u200b');
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(errorOf('Name')).toBe('Name must not be blank.'));
  });

  it('says so when the list cannot be loaded', async () => {
    serve(route('GET', '/api/v1/oauth/apps', problem(503, 'SERVICE_UNAVAILABLE')));
    renderApp(<Developers />, { user: me('dev') });
    expect(
      await screen.findByRole('heading', { name: 'Could not load your applications' }),
    ).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
