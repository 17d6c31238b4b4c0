import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { me, problem, renderApp, route, serve } from '../test-utils';
import { Layout } from '../components/Layout';
import { AdminMailLog } from '../pages/AdminMail';
import { EmailSettings } from '../security/EmailSettings';
import ForgotPassword from './ForgotPassword';
import ResetPassword from './ResetPassword';
import VerifyEmail from './VerifyEmail';

const TOKEN = 'A'.repeat(43);
const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('forgot password', () => {
  it('focuses its heading, checks the address, then says the same thing whatever the answer', async () => {
    const calls = serve(
      route('POST', '/api/v1/auth/password-reset', { status: 202, body: { status: 'queued' } }),
    );
    renderApp(<ForgotPassword />);
    const heading = screen.getByRole('heading', { name: 'Reset your password' });
    expect(document.activeElement).toBe(heading);

    type('Email', 'not-an-address');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
    expect(calls).toHaveLength(0);

    type('Email', ' ada@example.test ');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    const status = await screen.findByTestId('reset-requested');
    expect(status.textContent).toMatch(
      /If an account uses ada@example\.test, a link .* 30 minutes/,
    );
    // Announced: the message sits in a polite live region.
    expect(status.closest('[role="status"]')?.getAttribute('aria-live')).toBe('polite');
    expect(calls[0]?.body).toEqual({ email: 'ada@example.test' });
    expect(screen.getByRole('button', { name: 'Send another link' })).toBeTruthy();
  });

  it('says when too many links were asked for', async () => {
    serve(route('POST', '/api/v1/auth/password-reset', problem(429, 'AUTH_EMAIL_THROTTLED')));
    renderApp(<ForgotPassword />);
    type('Email', 'ada@example.test');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Wait a few minutes/);
  });

  it('is linked from the login page', async () => {
    serve();
    const { default: Auth } = await import('../pages/Auth');
    renderApp(<Auth mode="login" />);
    expect(screen.getByRole('link', { name: 'Forgot password?' }).getAttribute('href')).toBe(
      '/forgot-password',
    );
  });
});

describe('reset password', () => {
  it('sets the new password from the link’s token and signs this browser out', async () => {
    const calls = serve(
      route('POST', '/api/v1/auth/password-reset/confirm', { status: 204, body: null }),
    );
    const { store } = renderApp(<ResetPassword />, {
      user: me('ada'),
      at: `/reset-password?token=${TOKEN}`,
    });
    expect(document.activeElement).toBe(
      screen.getByRole('heading', { name: 'Choose a new password' }),
    );
    type('New password', 'Brand-new-horse-1');
    type('Repeat the new password', 'Brand-new-horse-2');
    fireEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(await screen.findByText('The two passwords differ.')).toBeTruthy();
    expect(calls).toHaveLength(0);

    type('Repeat the new password', 'Brand-new-horse-1');
    fireEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    const heading = await screen.findByRole('heading', { name: 'Password changed' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(calls[0]?.body).toEqual({ token: TOKEN, password: 'Brand-new-horse-1' });
    expect(store.getState().session.user).toBeNull();
    expect(screen.getByRole('link', { name: 'Log in' })).toBeTruthy();
  });

  it('shows a weak password under the field and keeps the form', async () => {
    serve(
      route(
        'POST',
        '/api/v1/auth/password-reset/confirm',
        problem(400, 'AUTH_PASSWORD_TOO_COMMON'),
      ),
    );
    renderApp(<ResetPassword />, { at: `/reset-password?token=${TOKEN}` });
    type('New password', 'password');
    type('Repeat the new password', 'password');
    fireEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    await waitFor(() =>
      expect(screen.getByLabelText('New password').getAttribute('aria-invalid')).toBe('true'),
    );
    expect(screen.getByRole('alert').textContent).toMatch(/too common/);
  });

  it('a used or expired link offers a new one', async () => {
    serve(
      route(
        'POST',
        '/api/v1/auth/password-reset/confirm',
        problem(400, 'AUTH_EMAIL_TOKEN_INVALID'),
      ),
    );
    renderApp(<ResetPassword />, { at: `/reset-password?token=${TOKEN}` });
    type('New password', 'Brand-new-horse-1');
    type('Repeat the new password', 'Brand-new-horse-1');
    fireEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(await screen.findByRole('heading', { name: 'This link does not work' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Get a new link' }).getAttribute('href')).toBe(
      '/forgot-password',
    );
  });

  it('the header’s Log in does not carry the link’s token along', () => {
    serve();
    renderApp(<Layout />, { at: `/reset-password?token=${TOKEN}` });
    for (const link of screen.getAllByRole('link', { name: 'Log in' }))
      expect(link.getAttribute('href')).toBe('/login?next=%2F');
  });

  it('a link without a token asks for a new one at once', () => {
    serve();
    renderApp(<ResetPassword />, { at: '/reset-password' });
    expect(screen.getByRole('heading', { name: 'This link does not work' })).toBeTruthy();
  });
});

describe('verify email', () => {
  it('confirms on a click (not on load) and marks the signed-in account confirmed', async () => {
    const calls = serve(
      route('POST', '/api/v1/auth/verify-email', {
        body: { email: 'ada@example.test', emailVerified: true },
      }),
    );
    const { store } = renderApp(<VerifyEmail />, {
      user: { ...me('ada'), email: 'ada@example.test', emailVerified: false },
      at: `/verify-email?token=${TOKEN}`,
    });
    expect(document.activeElement).toBe(
      screen.getByRole('heading', { name: 'Confirm your email address' }),
    );
    expect(calls).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: 'Confirm my address' }));
    expect((await screen.findByTestId('email-verified')).textContent).toMatch(
      /ada@example\.test is confirmed/,
    );
    expect(calls[0]?.body).toEqual({ token: TOKEN });
    expect(store.getState().session.user?.emailVerified).toBe(true);
  });

  it('a used link says so', async () => {
    serve(route('POST', '/api/v1/auth/verify-email', problem(400, 'AUTH_EMAIL_TOKEN_INVALID')));
    renderApp(<VerifyEmail />, { at: `/verify-email?token=${TOKEN}` });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm my address' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/used already, or it expired/);
  });
});

describe('Settings → Security: email', () => {
  it('shows an unconfirmed address with a resend that reports in a live region', async () => {
    const account = { ...me('ada'), emailVerified: false };
    const calls = serve(
      route('GET', '/api/v1/me', { body: account }),
      route('POST', '/api/v1/me/email-verification', { status: 202, body: { status: 'queued' } }),
    );
    renderApp(<EmailSettings />, { user: account });
    expect(screen.getByTestId('email-state').textContent).toBe('Not confirmed');
    fireEvent.click(screen.getByRole('button', { name: 'Resend the confirmation link' }));
    expect(
      (await screen.findByText(/A new link is on its way to ada@example\.test/)).closest(
        '[role="status"]',
      ),
    ).toBeTruthy();
    expect(
      calls.some((c) => c.method === 'POST' && c.path === '/api/v1/me/email-verification'),
    ).toBe(true);
  });

  it('shows a confirmed address without a resend, from the fresh account', async () => {
    serve(route('GET', '/api/v1/me', { body: { ...me('ada'), emailVerified: true } }));
    renderApp(<EmailSettings />, { user: { ...me('ada'), emailVerified: false } });
    await waitFor(() => expect(screen.getByTestId('email-state').textContent).toBe('Confirmed'));
    expect(screen.queryByRole('button', { name: 'Resend the confirmation link' })).toBeNull();
  });
});

describe('Admin → Mail', () => {
  it('lists the mails with the links to this site clickable, and says when SMTP kept no text', async () => {
    const link = `${location.origin}/reset-password?token=${TOKEN}`;
    const calls = serve(
      route('GET', '/admin/v1/mail', {
        body: {
          items: [
            {
              id: 'm2',
              to: 'ada@example.test',
              kind: 'password-reset',
              subject: 'Reset your Neon password',
              text: `Hi ada,\n\nChoose a new password:\n${link}\n\nhttp://elsewhere.test/x\n`,
              status: 'sent',
              attempts: 1,
              lastError: null,
              createdAt: '2025-01-01T00:00:00.000Z',
              sentAt: '2025-01-01T00:00:01.000Z',
            },
            {
              id: 'm1',
              to: 'bob@example.test',
              kind: 'verify-email',
              subject: 'Confirm your email address for Neon',
              text: null,
              status: 'failed',
              attempts: 8,
              lastError: '451 try later',
              createdAt: '2025-01-01T00:00:00.000Z',
              sentAt: null,
            },
          ],
          nextCursor: null,
        },
      }),
    );
    renderApp(<AdminMailLog />, { user: me('root', ['user', 'admin']) });
    const reset = await screen.findByRole('link', { name: link });
    expect(reset.getAttribute('href')).toBe(`/reset-password?token=${TOKEN}`);
    expect(screen.queryByRole('link', { name: 'http://elsewhere.test/x' })).toBeNull();
    expect(screen.getByText(/Failed after 8 tries · last error: 451 try later/)).toBeTruthy();
    expect(screen.getByText('Sent by SMTP: its text is not kept.')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Mail to'), { target: { value: 'ada@example.test' } });
    await waitFor(() =>
      expect(calls.some((c) => c.search.get('to') === 'ada@example.test')).toBe(true),
    );
  });
});

describe('Settings → Security: change of email', () => {
  const account = { ...me('ada'), email: 'ada@example.test', emailVerified: true };
  const open = () => fireEvent.click(screen.getByRole('button', { name: 'Change email' }));

  it('sends the new address with the password and says the change waits for the link', async () => {
    const calls = serve(
      route('GET', '/api/v1/me', { body: account }),
      route('POST', '/api/v1/me/email', { status: 202, body: { status: 'queued' } }),
    );
    renderApp(<EmailSettings />, { user: account });
    open();
    type('New email address', ' ada@new.example ');
    type('Current password', 'correct horse battery staple');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    const sent = await screen.findByTestId('email-change-sent');
    expect(sent.textContent).toMatch(
      /We sent a link to ada@new\.example\..*keep using ada@example\.test/,
    );
    expect(sent.closest('[role="status"]')).toBeTruthy();
    expect(calls.find((c) => c.path === '/api/v1/me/email')?.body).toEqual({
      email: 'ada@new.example',
      password: 'correct horse battery staple',
    });
    // The address shown is still the current one.
    expect(screen.getByTestId('account-email').textContent).toBe('ada@example.test');
  });

  it('puts a wrong password and a taken address under their fields; a malformed one is not sent', async () => {
    const calls = serve(
      route('GET', '/api/v1/me', { body: account }),
      route('POST', '/api/v1/me/email', problem(400, 'AUTH_PASSWORD_WRONG')),
    );
    renderApp(<EmailSettings />, { user: account });
    open();
    type('New email address', 'not an address');
    type('Current password', 'x');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Enter an email address/);
    expect(calls.some((c) => c.path === '/api/v1/me/email')).toBe(false);

    type('New email address', 'ada@new.example');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Current password').getAttribute('aria-invalid')).toBe('true'),
    );
    expect(screen.getByLabelText('New email address').getAttribute('aria-invalid')).toBe('false');
  });

  it('asks for the second factor when the session’s check is old, then sends again', async () => {
    let asked = 0;
    const calls = serve(
      route('GET', '/api/v1/me', { body: account }),
      route('POST', '/api/v1/me/email', () =>
        asked++ === 0
          ? problem(403, 'AUTH_STEP_UP_REQUIRED')
          : { status: 202, body: { status: 'queued' } },
      ),
      route('POST', '/api/v1/auth/step-up', {
        body: { accessToken: 'x.y.z', expiresIn: 900, stepUpUntil: new Date().toISOString() },
      }),
    );
    renderApp(<EmailSettings />, { user: account });
    open();
    type('New email address', 'ada@new.example');
    type('Current password', 'correct horse battery staple');
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    expect(await screen.findByRole('heading', { name: 'Confirm it’s you' })).toBeTruthy();
    type('Authentication code', '654321');
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByTestId('email-change-sent')).toBeTruthy();
    expect(calls.filter((c) => c.path === '/api/v1/me/email')).toHaveLength(2);
    expect(calls.find((c) => c.path === '/api/v1/auth/step-up')?.body).toEqual({ code: '654321' });
  });
});
