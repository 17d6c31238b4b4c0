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
