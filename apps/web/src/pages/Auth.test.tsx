import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Provider } from 'react-redux';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../store';
import Auth from './Auth';

function renderAuth(mode: 'login' | 'signup') {
  render(
    <Provider store={createStore()}>
      <MemoryRouter initialEntries={[`/${mode}`]}>
        <Auth mode={mode} />
      </MemoryRouter>
    </Provider>,
  );
}

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
const errorOf = (label: string) => {
  const input = screen.getByLabelText(label);
  const ids = input.getAttribute('aria-describedby')?.split(' ') ?? [];
  return (
    ids.map((id) => document.getElementById(id)).find((e) => e?.classList.contains('field-error'))
      ?.textContent ?? null
  );
};

describe('sign-up form', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('shows one message per invalid field and sends nothing', () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    renderAuth('signup');
    type('Username', 'Al');
    type('Email', 'not-an-email');
    type('Password', 'short');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(errorOf('Username')).toMatch(/at least 3/);
    expect(errorOf('Email')).toMatch(/email/i);
    expect(errorOf('Password')).toMatch(/at least 8/);
    expect(screen.getByLabelText('Username').getAttribute('aria-invalid')).toBe('true');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('applies the server’s username rule (lower-case letters, digits, underscore)', () => {
    renderAuth('signup');
    type('Username', 'Alice!');
    fireEvent.blur(screen.getByLabelText('Username'));
    expect(errorOf('Username')).toMatch(/lower-case/);
    type('Username', 'alice_01');
    expect(errorOf('Username')).toBeNull();
    type('Username', 'a'.repeat(26));
    expect(errorOf('Username')).toMatch(/at most 25/);
  });

  it('says in words, under the username, that a reserved name cannot be taken', async () => {
    // Node's Request takes no relative URL; the page's own origin is what a browser resolves against.
    const NodeRequest = globalThis.Request;
    vi.stubGlobal(
      'Request',
      class extends NodeRequest {
        constructor(input: RequestInfo | URL, init?: RequestInit) {
          super(typeof input === 'string' ? new URL(input, location.href) : input, init);
        }
      },
    );
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(
      new Response(
        JSON.stringify({
          type: 'about:blank',
          title: 'Conflict',
          status: 409,
          code: 'AUTH_USERNAME_RESERVED',
          detail: 'This username is reserved or looks like a reserved name; choose another.',
        }),
        { status: 409, headers: { 'content-type': 'application/problem+json' } },
      ),
    );
    renderAuth('signup');
    type('Username', 'adm1n');
    type('Email', 'someone@example.com');
    type('Password', 'correct horse battery');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    await waitFor(() => expect(errorOf('Username')).toMatch(/reserved/));
    expect(errorOf('Username')).not.toMatch(/AUTH_/);
  });

  it('clears a field’s message as soon as it is fixed', () => {
    renderAuth('signup');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(errorOf('Password')).toMatch(/Choose a password/);
    type('Password', 'correct horse battery');
    expect(errorOf('Password')).toBeNull();
    expect(errorOf('Username')).not.toBeNull();
  });
});

describe('log-in form', () => {
  it('asks for both fields', () => {
    renderAuth('login');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(errorOf('Username or email')).toMatch(/username or email/);
    expect(errorOf('Password')).toMatch(/password/);
  });
});

describe('sign-in with a second factor', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('asks for the code after the password, and signs in only once it is right', async () => {
    const { me, problem, renderApp, route, serve } = await import('../test-utils');
    const calls = serve(
      route('POST', '/api/v1/auth/login', {
        body: {
          mfaRequired: true,
          challenge: 'ch-1',
          expiresIn: 300,
          methods: ['totp', 'recovery'],
        },
      }),
      route('POST', '/api/v1/auth/mfa', (call) =>
        (call.body as { code: string }).code === '123456'
          ? { body: { accessToken: 'at', expiresIn: 900, user: me('bob') } }
          : problem(400, 'MFA_CODE_INVALID'),
      ),
    );
    const { store, location } = renderApp(<Auth mode="login" />, { at: '/login?next=/dashboard' });
    type('Username or email', 'bob');
    type('Password', 'correct horse battery');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Two-factor authentication')).toBeTruthy();
    expect(store.getState().session.user).toBeNull();

    type('Authentication code', '000000');
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/wrong or was already used/);
    expect(store.getState().session.user).toBeNull();

    // The form takes a new code once the wrong one's answer has settled.
    type('Authentication code', '123456');
    fireEvent.click(await screen.findByRole('button', { name: 'Verify' }));
    await waitFor(() => expect(location()).toBe('/dashboard'));
    expect(store.getState().session.accessToken).toBe('at');
    expect(calls.filter((c) => c.path === '/api/v1/auth/mfa').map((c) => c.body)).toEqual([
      { challenge: 'ch-1', code: '000000' },
      { challenge: 'ch-1', code: '123456' },
    ]);
  });

  it('goes back to the password when the challenge expired', async () => {
    const { problem, renderApp, route, serve } = await import('../test-utils');
    serve(
      route('POST', '/api/v1/auth/login', {
        body: { mfaRequired: true, challenge: 'ch-2', expiresIn: 300, methods: ['totp'] },
      }),
      route('POST', '/api/v1/auth/mfa', problem(401, 'MFA_CHALLENGE_INVALID')),
    );
    renderApp(<Auth mode="login" />, { at: '/login' });
    type('Username or email', 'bob');
    type('Password', 'correct horse battery');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByLabelText('Authentication code');
    type('Authentication code', '123456');
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Log in again/);
    expect(screen.getByRole('button', { name: 'Log in' })).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Password').value).toBe('');
  });
});
