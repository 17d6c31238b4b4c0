import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Provider } from 'react-redux';
import { MemoryRouter } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthorizePreview } from '@neon/contracts';
import { App } from '../App';
import { createStore } from '../store';
import { me, problem, renderApp, route, serve } from '../test-utils';
import Consent from './Consent';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const request = {
  response_type: 'code',
  client_id: 'cid-tools',
  redirect_uri: 'https://tools.example/callback',
  scope: 'user:read:email channel:read:followers',
  state: 'xyz 123',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
};
const query = (over: Record<string, string | null> = {}) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...request, ...over })) if (v !== null) params.set(k, v);
  return params.toString();
};

const preview: AuthorizePreview = {
  clientId: 'cid-tools',
  appName: 'Stream Tools',
  redirectUri: 'https://tools.example/callback',
  scopes: [
    { name: 'user:read:email', description: 'See your email address' },
    { name: 'channel:read:followers', description: 'See who follows your channel' },
  ],
};

let assign: ReturnType<typeof vi.fn>;

describe('consent screen', () => {
  beforeEach(() => {
    // The page leaves for the app with location.assign: recorded here instead.
    assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, href: window.location.href, assign });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it('says who asks for what, as whom and where the answer goes; Authorize posts and follows the redirect', async () => {
    const redirectTo = 'https://tools.example/callback?code=abc&state=xyz+123';
    const calls = serve(
      route('GET', '/api/v1/oauth/authorize', { body: preview }),
      route('POST', '/api/v1/oauth/authorize', { body: { redirectTo } }),
    );
    // An extra parameter the app sent is passed to the preview but not to the answer.
    const search = `${query()}&prompt=consent`;
    renderApp(<Consent />, { user: me('viewer'), at: `/oauth/authorize?${search}` });
    expect(
      await screen.findByRole('heading', {
        level: 1,
        name: 'Stream Tools wants to access your Neon account',
      }),
    ).toBeTruthy();
    expect(screen.getByText('@viewer')).toBeTruthy();
    const scopes = screen.getByRole('list', { name: 'This will allow Stream Tools to:' });
    expect(
      within(scopes)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['See your email address', 'See who follows your channel']);
    expect(screen.getByText('https://tools.example')).toBeTruthy();
    expect(calls[0]?.search.toString()).toBe(search);

    fireEvent.click(screen.getByRole('button', { name: 'Authorize' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(redirectTo));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ ...request, allowed: true });
    expect(screen.getByRole('status').textContent).toBe('Sending you to https://tools.example…');
    expect(screen.getByRole('button', { name: 'Authorize' })).toHaveProperty('disabled', true);
  });

  it('Cancel posts a refusal and follows the redirect the server gives', async () => {
    const redirectTo =
      'https://tools.example/callback?error=access_denied&error_description=The+user+denied+the+request.&state=xyz+123';
    const calls = serve(
      route('GET', '/api/v1/oauth/authorize', { body: preview }),
      route('POST', '/api/v1/oauth/authorize', { body: { redirectTo } }),
    );
    renderApp(<Consent />, { user: me('viewer'), at: `/oauth/authorize?${query()}` });
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(redirectTo));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ ...request, allowed: false });
  });

  it.each([
    ['OAUTH_REDIRECT_URI_INVALID', /address it did not register/],
    ['OAUTH_CLIENT_INVALID', /No application is registered with this client ID/],
  ])('shows a refused request (%s) on the page and never leaves it', async (code, text) => {
    const calls = serve(route('GET', '/api/v1/oauth/authorize', problem(400, code)));
    renderApp(<Consent />, {
      user: me('viewer'),
      at: `/oauth/authorize?${query({ redirect_uri: 'https://evil.example/cb' })}`,
    });
    expect(
      await screen.findByRole('heading', {
        name: 'This authorization request cannot be completed',
      }),
    ).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toMatch(text);
    expect(screen.queryByRole('button', { name: 'Authorize' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    expect(assign).not.toHaveBeenCalled();
  });

  it('names an unknown scope as the problem', async () => {
    serve(
      route(
        'GET',
        '/api/v1/oauth/authorize',
        problem(400, 'VALIDATION_FAILED', [{ field: 'scope', message: 'has an unknown scope' }]),
      ),
    );
    renderApp(<Consent />, {
      user: me('viewer'),
      at: `/oauth/authorize?${query({ scope: 'admin:everything' })}`,
    });
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /a permission that does not exist/,
    );
    expect(assign).not.toHaveBeenCalled();
  });

  it.each([
    ['no code challenge', { code_challenge: null }, /no PKCE code challenge/],
    ['the plain method', { code_challenge_method: 'plain' }, /S256/],
    ['a malformed challenge', { code_challenge: 'short' }, /not a base64url SHA-256/],
    ['the implicit flow', { response_type: 'token' }, /only response_type=code/],
  ])('refuses %s on the page, before asking the user', async (_what, over, text) => {
    const calls = serve(route('GET', '/api/v1/oauth/authorize', { body: preview }));
    renderApp(<Consent />, { user: me('viewer'), at: `/oauth/authorize?${query(over)}` });
    expect((await screen.findByRole('alert')).textContent).toMatch(text);
    expect(screen.queryByRole('button', { name: 'Authorize' })).toBeNull();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    expect(assign).not.toHaveBeenCalled();
  });

  it('takes the user back to the app with the server’s error for a request it cannot grant', async () => {
    const redirectTo =
      'https://tools.example/callback?error=invalid_request&error_description=PKCE&state=xyz+123';
    const calls = serve(
      route('GET', '/api/v1/oauth/authorize', { body: preview }),
      route('POST', '/api/v1/oauth/authorize', { body: { redirectTo } }),
    );
    renderApp(<Consent />, {
      user: me('viewer'),
      at: `/oauth/authorize?${query({ code_challenge: null })}`,
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Back to https://tools.example' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(redirectTo));
    const answer = calls.find((c) => c.method === 'POST');
    expect(answer?.body).toMatchObject({ allowed: false, client_id: 'cid-tools' });
  });

  it('says the address has no request when the query is empty', async () => {
    const calls = serve();
    renderApp(<Consent />, { user: me('viewer'), at: '/oauth/authorize' });
    expect((await screen.findByRole('alert')).textContent).toMatch(/This address has none/);
    expect(calls).toHaveLength(0);
  });

  it('stays on the page with the error when the answer is refused', async () => {
    serve(
      route('GET', '/api/v1/oauth/authorize', { body: preview }),
      route('POST', '/api/v1/oauth/authorize', problem(400, 'OAUTH_REDIRECT_URI_INVALID')),
    );
    renderApp(<Consent />, { user: me('viewer'), at: `/oauth/authorize?${query()}` });
    fireEvent.click(await screen.findByRole('button', { name: 'Authorize' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/did not register/);
    expect(assign).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Authorize' })).toHaveProperty('disabled', false);
  });

  it('follows no redirect to another origin than the checked redirect URI', async () => {
    serve(
      route('GET', '/api/v1/oauth/authorize', { body: preview }),
      route('POST', '/api/v1/oauth/authorize', {
        body: { redirectTo: 'https://evil.example/?code=abc' },
      }),
    );
    renderApp(<Consent />, { user: me('viewer'), at: `/oauth/authorize?${query()}` });
    fireEvent.click(await screen.findByRole('button', { name: 'Authorize' }));
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(assign).not.toHaveBeenCalled();
  });
});

/** The whole app at an address, as a fresh page load sees it. */
function loadApp(at: string) {
  render(
    <Provider store={createStore()}>
      <MemoryRouter initialEntries={[at]}>
        <App />
      </MemoryRouter>
    </Provider>,
  );
}

describe('the routes of the developer pages', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it('sends a signed-out user to log in and back to the consent screen, query and all', async () => {
    const calls = serve();
    const at = `/oauth/authorize?${query()}`;
    loadApp(at);
    expect(await screen.findByRole('heading', { name: 'Welcome back' })).toBeTruthy();
    const signup = screen.getByRole('link', { name: 'Create an account' }).getAttribute('href');
    expect(new URLSearchParams(signup?.split('?')[1]).get('next')).toBe(at);
    expect(calls.some((c) => c.path.startsWith('/api/v1/channels/'))).toBe(false);
  });

  it('treats /developers as the console, not a channel', async () => {
    const calls = serve();
    loadApp('/developers');
    expect(await screen.findByRole('heading', { name: 'Welcome back' })).toBeTruthy();
    const signup = screen.getByRole('link', { name: 'Create an account' }).getAttribute('href');
    expect(new URLSearchParams(signup?.split('?')[1]).get('next')).toBe('/developers');
    expect(calls.some((c) => c.path.startsWith('/api/v1/channels/'))).toBe(false);
  });

  it('has nothing else under /oauth', async () => {
    const calls = serve();
    loadApp('/oauth');
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeTruthy();
    expect(calls.some((c) => c.path.startsWith('/api/v1/channels/'))).toBe(false);
  });

  it('shows the developer docs to anyone', async () => {
    serve();
    loadApp('/developers/docs');
    expect(await screen.findByRole('heading', { name: 'OAuth for developers' })).toBeTruthy();
    expect(screen.getByRole('cell', { name: 'See who follows your channel' })).toBeTruthy();
  });
});
