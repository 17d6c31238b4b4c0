import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { me, problem, renderApp, route, serve } from '../test-utils';
import SecuritySettings from './SecuritySettings';

/** The page's other section: no connected apps. */
const noApps = route('GET', '/api/v1/oauth/connections', { body: { items: [] } });
/** And the sessions section, answered apart (Sessions.test.tsx). */
const noSessions = route('GET', '/api/v1/me/sessions', { body: { items: [] } });

const codes = Array.from({ length: 10 }, (_, i) => `aaaa-bbbb-cccc-000${i}`);
const code = () => screen.getByLabelText('Authentication code');
/** The confirm button, once it is back from "Checking…" after the last answer. */
const turnOn = () => screen.findByRole('button', { name: 'Turn on' });

describe('Settings → Security', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('enrols an authenticator: QR code, a confirmation code, then the recovery codes once', async () => {
    let enabled = false;
    const calls = serve(
      noApps,
      noSessions,
      route('GET', '/api/v1/me/mfa', () => ({
        body: { totp: enabled, recoveryCodesLeft: enabled ? 10 : 0, stepUpUntil: null },
      })),
      route('POST', '/api/v1/me/mfa/totp', {
        body: {
          secret: 'JBSWY3DPEHPK3PXP',
          otpauthUri: 'otpauth://totp/Neon:bob?secret=JBSWY3DPEHPK3PXP&issuer=Neon',
          qrCode: 'data:image/svg+xml;base64,PHN2Zy8+',
        },
      }),
      route('POST', '/api/v1/me/mfa/totp/confirm', (call) => {
        if ((call.body as { code: string }).code !== '123456')
          return problem(400, 'MFA_CODE_INVALID');
        enabled = true;
        return { body: { recoveryCodes: codes, accessToken: 'stepped-up', expiresIn: 900 } };
      }),
    );
    const { store } = renderApp(<SecuritySettings />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Set up an authenticator app' }));
    const qr = await screen.findByAltText('QR code for your authenticator app');
    expect(qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(screen.getByTestId('totp-secret').textContent).toBe('JBSWY3DPEHPK3PXP');

    fireEvent.change(code(), { target: { value: '000000' } });
    fireEvent.click(await turnOn());
    expect((await screen.findByRole('alert')).textContent).toMatch(/wrong or was already used/);

    fireEvent.change(code(), { target: { value: '123456' } });
    fireEvent.click(await turnOn());
    const list = await screen.findByTestId('recovery-codes');
    expect(list.querySelectorAll('li')).toHaveLength(10);
    expect(store.getState().session.accessToken).toBe('stepped-up');

    fireEvent.click(screen.getByRole('button', { name: 'I have saved them' }));
    expect((await screen.findByTestId('recovery-left')).textContent).toMatch(
      '10 recovery codes left',
    );
    expect(screen.queryByTestId('recovery-codes')).toBeNull();
    expect(calls.filter((c) => c.path === '/api/v1/me/mfa/totp/confirm')).toHaveLength(2);
  });

  it('asks for a code before new recovery codes when the last check is old, then retries', async () => {
    let steppedUp = false;
    const calls = serve(
      noApps,
      noSessions,
      route('GET', '/api/v1/me/mfa', {
        body: { totp: true, recoveryCodesLeft: 3, stepUpUntil: null },
      }),
      route('POST', '/api/v1/me/mfa/recovery-codes', () =>
        steppedUp
          ? { body: { recoveryCodes: codes, accessToken: 't2', expiresIn: 900 } }
          : problem(403, 'AUTH_STEP_UP_REQUIRED'),
      ),
      route('POST', '/api/v1/auth/step-up', () => {
        steppedUp = true;
        return {
          body: { accessToken: 't1', expiresIn: 900, stepUpUntil: '2030-01-01T00:00:00.000Z' },
        };
      }),
    );
    renderApp(<SecuritySettings />, { user: me('bob') });
    expect((await screen.findByTestId('recovery-left')).textContent).toMatch(
      '3 recovery codes left',
    );
    fireEvent.click(screen.getByRole('button', { name: 'New recovery codes' }));
    expect(await screen.findByText('Confirm it’s you')).toBeTruthy();
    fireEvent.change(code(), { target: { value: '654321' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByTestId('recovery-codes')).toBeTruthy();
    expect(calls.find((c) => c.path === '/api/v1/auth/step-up')?.body).toEqual({ code: '654321' });
  });

  it('turns two-factor off only with a current code', async () => {
    let on = true;
    const calls = serve(
      noApps,
      noSessions,
      route('GET', '/api/v1/me/mfa', () => ({
        body: { totp: on, recoveryCodesLeft: on ? 10 : 0, stepUpUntil: null },
      })),
      route('DELETE', '/api/v1/me/mfa/totp', () => {
        on = false;
        return { body: { accessToken: 'plain', expiresIn: 900 } };
      }),
    );
    renderApp(<SecuritySettings />, { user: me('bob') });
    fireEvent.click(await screen.findByRole('button', { name: 'Turn off' }));
    fireEvent.click(screen.getByRole('button', { name: 'Turn off two-factor' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Enter the code/);
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.change(code(), { target: { value: '111111' } });
    fireEvent.click(screen.getByRole('button', { name: 'Turn off two-factor' }));
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Set up an authenticator app' })).toBeTruthy(),
    );
    expect(calls.find((c) => c.method === 'DELETE')?.body).toEqual({ code: '111111' });
  });
});
