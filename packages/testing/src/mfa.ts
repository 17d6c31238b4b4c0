import type { RecoveryCodes, TotpEnrolment } from '@neon/contracts';
import { generate } from 'otplib';

export interface EnrolledTotp {
  /** The session's new access token: it carries the check the enrolment made (`sua`). */
  accessToken: string;
  secret: string;
  recoveryCodes: string[];
  /** The app's code for now (or `offsetSeconds` away: ±30 s reach the neighbouring steps). */
  code(offsetSeconds?: number): Promise<string>;
}

/** The authenticator app's code for `secret`, as a phone would show it. */
export function totpCode(secret: string, offsetSeconds = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSeconds });
}

/**
 * Enrols an authenticator app for the account behind `accessToken` through
 * the public API at `baseUrl` (the gateway), as Settings → Security does.
 */
export async function enrolTotp(baseUrl: string, accessToken: string): Promise<EnrolledTotp> {
  const call = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  const { secret } = await call<TotpEnrolment>('/api/v1/me/mfa/totp');
  const done = await call<RecoveryCodes>('/api/v1/me/mfa/totp/confirm', {
    code: await totpCode(secret),
  });
  return {
    accessToken: done.accessToken,
    secret,
    recoveryCodes: done.recoveryCodes,
    code: (offset = 0) => totpCode(secret, offset),
  };
}
