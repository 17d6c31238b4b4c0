import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  MfaChallenge,
  MfaStatus,
  Problem,
  RecoveryCodes,
  StepUpResponse,
  TokenResponse,
  TotpEnrolment,
} from '@neon/contracts';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { newAccount, start, variants, type Harness } from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };

// Second factors through identity's HTTP API, with the headers the gateway
// would derive from each access token (`sid`, `sua`). Time is moved by
// ageing stored rows, never by waiting.
for (const variant of variants()) {
  describe(`second factors (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;
    let address = 0;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines);
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    /** Each request from another address: the per-account limits are under test, not the gateway's. */
    function send(
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      payload?: object,
      token?: string,
    ) {
      address += 1;
      return h.app.server.inject({
        method,
        url,
        remoteAddress: `203.0.${address >> 8}.${address & 255}`,
        headers: { ...BODY, ...(token ? h.asToken(token) : {}) },
        ...(payload ? { payload } : {}),
      });
    }

    function code(res: { json<T>(): T }) {
      return res.json<Problem>().code;
    }

    /** The app's current code; `forget` lets a code of the same 30 s step work again (as time passing would). */
    async function totp(secret: string, userId: string, offset = 0) {
      await h.db.query(`UPDATE identity.totp_factors SET last_step = NULL WHERE user_id = $1`, [
        userId,
      ]);
      return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });
    }

    async function enrolled() {
      const account = newAccount('mfa');
      const reg = await send('POST', '/api/v1/auth/register', account);
      assert.equal(reg.statusCode, 201, reg.body);
      const session = reg.json<TokenResponse>();
      const begin = await send('POST', '/api/v1/me/mfa/totp', undefined, session.accessToken);
      assert.equal(begin.statusCode, 200, begin.body);
      const enrolment = begin.json<TotpEnrolment>();
      const id = session.user.id;
      const done = await send(
        'POST',
        '/api/v1/me/mfa/totp/confirm',
        { code: await totp(enrolment.secret, id) },
        session.accessToken,
      );
      assert.equal(done.statusCode, 200, done.body);
      const codes = done.json<RecoveryCodes>();
      return { account, id, secret: enrolment.secret, codes, token: codes.accessToken };
    }

    async function passwordStep(login: string, password: string) {
      const res = await send('POST', '/api/v1/auth/login', { login, password });
      assert.equal(res.statusCode, 200, res.body);
      return res;
    }

    test('enrolment: QR code and URI, a confirmation code, ten recovery codes stored hashed', async () => {
      const account = newAccount('enr');
      const session = (await send('POST', '/api/v1/auth/register', account)).json<TokenResponse>();
      const t = session.accessToken;
      assert.equal(decodeJwt(t).sua, undefined, 'no factor, no claim');
      const status = (await send('GET', '/api/v1/me/mfa', undefined, t)).json<MfaStatus>();
      assert.deepEqual(status, { totp: false, recoveryCodesLeft: 0, stepUpUntil: null });

      const begin = (await send('POST', '/api/v1/me/mfa/totp', undefined, t)).json<TotpEnrolment>();
      assert.match(begin.secret, /^[A-Z2-7]{32}$/);
      const uri = new URL(begin.otpauthUri);
      assert.equal(uri.protocol, 'otpauth:');
      assert.equal(uri.host, 'totp');
      assert.equal(uri.searchParams.get('secret'), begin.secret);
      assert.match(begin.qrCode, /^data:image\/svg\+xml;base64,/);
      assert.match(Buffer.from(begin.qrCode.split(',')[1]!, 'base64').toString(), /^<svg/);

      // A wrong code, a malformed one, then the right one.
      const id = session.user.id;
      for (const wrong of ['000000', '12345', 'abcdef']) {
        const res = await send('POST', '/api/v1/me/mfa/totp/confirm', { code: wrong }, t);
        assert.equal(res.statusCode, 400, wrong);
        assert.equal(code(res), wrong === '12345' ? 'VALIDATION_FAILED' : 'MFA_CODE_INVALID');
      }
      assert.equal(
        (await send('GET', '/api/v1/me/mfa', undefined, t)).json<MfaStatus>().totp,
        false,
      );
      const ok = await send(
        'POST',
        '/api/v1/me/mfa/totp/confirm',
        { code: await totp(begin.secret, id) },
        t,
      );
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.headers['cache-control'], 'no-store');
      const { recoveryCodes, accessToken } = ok.json<RecoveryCodes>();
      assert.equal(recoveryCodes.length, 10);
      assert.equal(new Set(recoveryCodes).size, 10);
      for (const c of recoveryCodes) assert.match(c, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
      const sua = decodeJwt(accessToken).sua as number;
      assert.ok(Math.abs(sua - Date.now() / 1000) < 60, 'enrolling counts as a check');

      // Stored: neither the codes nor the secret in the clear.
      const stored = JSON.stringify(
        await h.db.query(
          `SELECT (SELECT json_agg(r) FROM identity.recovery_codes r WHERE user_id = $1) AS codes,
                  (SELECT secret FROM identity.totp_factors WHERE user_id = $1) AS secret`,
          [id],
        ),
      );
      for (const c of recoveryCodes) assert.ok(!stored.includes(c));
      assert.ok(!stored.includes(begin.secret));

      // Enrolling again is refused; the status shows the factor.
      const again = await send('POST', '/api/v1/me/mfa/totp', undefined, accessToken);
      assert.equal(code(again), 'MFA_ALREADY_ENABLED');
      const after = (await send('GET', '/api/v1/me/mfa', undefined, accessToken)).json<MfaStatus>();
      assert.equal(after.totp, true);
      assert.equal(after.recoveryCodesLeft, 10);
      assert.ok(after.stepUpUntil);
    });

    test('sign-in asks for the code after the password; the challenge is not a session', async () => {
      const a = await enrolled();
      const first = await passwordStep(a.account.username, a.account.password);
      const challenge = first.json<MfaChallenge>();
      assert.equal(challenge.mfaRequired, true);
      assert.deepEqual(challenge.methods, ['totp', 'recovery']);
      assert.equal(first.headers['set-cookie'], undefined, 'no refresh cookie before the code');
      assert.equal(first.json<TokenResponse>().accessToken, undefined);

      // Wrong password still fails as before, with no challenge.
      const wrong = await send('POST', '/api/v1/auth/login', {
        login: a.account.username,
        password: 'not-the-password',
      });
      assert.equal(code(wrong), 'AUTH_INVALID_CREDENTIALS');

      const bad = await send('POST', '/api/v1/auth/mfa', {
        challenge: challenge.challenge,
        code: '000000',
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(code(bad), 'MFA_CODE_INVALID');

      const good = await send('POST', '/api/v1/auth/mfa', {
        challenge: challenge.challenge,
        code: await totp(a.secret, a.id),
      });
      assert.equal(good.statusCode, 200, good.body);
      const session = good.json<TokenResponse>();
      assert.equal(session.user.id, a.id);
      assert.ok(session.refreshToken);
      assert.ok(Math.abs((decodeJwt(session.accessToken).sua as number) - Date.now() / 1000) < 60);

      // The challenge works once; a forged or another user's challenge never.
      const reuse = await send('POST', '/api/v1/auth/mfa', {
        challenge: challenge.challenge,
        code: await totp(a.secret, a.id),
      });
      assert.equal(code(reuse), 'MFA_CHALLENGE_INVALID');
      const forged = await send('POST', '/api/v1/auth/mfa', {
        challenge: 'x'.repeat(43),
        code: '123456',
      });
      assert.equal(code(forged), 'MFA_CHALLENGE_INVALID');
      const b = await enrolled();
      const bChallenge = (
        await passwordStep(b.account.email, b.account.password)
      ).json<MfaChallenge>();
      const crossed = await send('POST', '/api/v1/auth/mfa', {
        challenge: bChallenge.challenge,
        code: await totp(a.secret, a.id),
      });
      assert.equal(code(crossed), 'MFA_CODE_INVALID', "a's code does not open b's sign-in");

      // The refresh keeps the session's check time.
      const refreshed = await send('POST', '/api/v1/auth/refresh', {
        refreshToken: session.refreshToken,
      });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.equal(
        decodeJwt(refreshed.json<TokenResponse>().accessToken).sua,
        decodeJwt(session.accessToken).sua,
      );
    });

    test('a code works once, and an expired challenge is refused', async () => {
      const a = await enrolled();
      const now = await totp(a.secret, a.id);
      const c1 = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      assert.equal(
        (await send('POST', '/api/v1/auth/mfa', { challenge: c1.challenge, code: now })).statusCode,
        200,
      );
      const c2 = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      const replay = await send('POST', '/api/v1/auth/mfa', { challenge: c2.challenge, code: now });
      assert.equal(code(replay), 'MFA_CODE_INVALID', 'the same code twice');
      // A code of an earlier step than the last accepted one is refused too.
      const earlier = generate({ secret: a.secret, epoch: Math.floor(Date.now() / 1000) - 30 });
      const back = await send('POST', '/api/v1/auth/mfa', {
        challenge: c2.challenge,
        code: await earlier,
      });
      assert.equal(code(back), 'MFA_CODE_INVALID');

      const c3 = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      await h.db.query(
        `UPDATE identity.mfa_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [a.id],
      );
      const late = await send('POST', '/api/v1/auth/mfa', {
        challenge: c3.challenge,
        code: await totp(a.secret, a.id),
      });
      assert.equal(late.statusCode, 401);
      assert.equal(code(late), 'MFA_CHALLENGE_INVALID');
    });

    test('recovery codes sign in once each, in any case and spacing', async () => {
      const a = await enrolled();
      const [first, second] = a.codes.recoveryCodes as [string, string];
      const c1 = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      const typed = ` ${first.toUpperCase().replace(/-/g, ' ')} `;
      const ok = await send('POST', '/api/v1/auth/mfa', { challenge: c1.challenge, code: typed });
      assert.equal(ok.statusCode, 200, ok.body);
      const c2 = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      const reused = await send('POST', '/api/v1/auth/mfa', {
        challenge: c2.challenge,
        code: first,
      });
      assert.equal(code(reused), 'MFA_CODE_INVALID');
      const next = await send('POST', '/api/v1/auth/mfa', {
        challenge: c2.challenge,
        code: second,
      });
      assert.equal(next.statusCode, 200);
      const status = (await send('GET', '/api/v1/me/mfa', undefined, a.token)).json<MfaStatus>();
      assert.equal(status.recoveryCodesLeft, 8);
      // Another account's recovery code is no code here.
      const b = await enrolled();
      const c3 = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      const foreign = await send('POST', '/api/v1/auth/mfa', {
        challenge: c3.challenge,
        code: b.codes.recoveryCodes[0]!,
      });
      assert.equal(code(foreign), 'MFA_CODE_INVALID');
    });

    test('wrong codes are limited per account, from any address, with the login rules', async () => {
      const a = await enrolled();
      let challenge = (
        await passwordStep(a.account.username, a.account.password)
      ).json<MfaChallenge>();
      for (let i = 1; i <= 5; i++) {
        // A challenge takes five tries; then the password is needed again.
        const res = await send('POST', '/api/v1/auth/mfa', {
          challenge: challenge.challenge,
          code: `00000${i}`,
        });
        assert.equal(code(res), 'MFA_CODE_INVALID', `try ${i}`);
      }
      const dead = await send('POST', '/api/v1/auth/mfa', {
        challenge: challenge.challenge,
        code: await totp(a.secret, a.id),
      });
      assert.equal(code(dead), 'MFA_CHALLENGE_INVALID');
      challenge = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      const slowed = await send('POST', '/api/v1/auth/mfa', {
        challenge: challenge.challenge,
        code: await totp(a.secret, a.id),
      });
      assert.equal(slowed.statusCode, 429);
      assert.equal(code(slowed), 'MFA_THROTTLED');
      assert.ok(Number(slowed.headers['retry-after']) >= 1);
      // Step-up counts under the same account limit.
      const step = await send('POST', '/api/v1/auth/step-up', { code: '123456' }, a.token);
      assert.equal(code(step), 'MFA_THROTTLED');
    });

    test('step-up: sensitive actions need a check within ten minutes', async () => {
      const a = await enrolled();
      // The enrolment's check, ten minutes and more ago.
      await h.db.query(
        `UPDATE identity.refresh_families SET step_up_at = now() - interval '11 minutes' WHERE user_id = $1`,
        [a.id],
      );
      const refreshLogin = await passwordStep(a.account.username, a.account.password);
      const session = (
        await send('POST', '/api/v1/auth/mfa', {
          challenge: refreshLogin.json<MfaChallenge>().challenge,
          code: a.codes.recoveryCodes[9]!,
        })
      ).json<TokenResponse>();
      await h.db.query(
        `UPDATE identity.refresh_families SET step_up_at = now() - interval '11 minutes' WHERE user_id = $1`,
        [a.id],
      );
      const stale = (
        await send('POST', '/api/v1/auth/refresh', { refreshToken: session.refreshToken })
      ).json<TokenResponse>().accessToken;

      const change = await send(
        'POST',
        '/api/v1/me/password',
        { currentPassword: a.account.password, newPassword: 'Another-long-passphrase-1' },
        stale,
      );
      assert.equal(change.statusCode, 403);
      assert.equal(code(change), 'AUTH_STEP_UP_REQUIRED');
      const regen = await send('POST', '/api/v1/me/mfa/recovery-codes', undefined, stale);
      assert.equal(code(regen), 'AUTH_STEP_UP_REQUIRED');
      assert.equal(
        (await send('GET', '/api/v1/me/mfa', undefined, stale)).json<MfaStatus>().stepUpUntil,
        null,
      );

      const wrong = await send('POST', '/api/v1/auth/step-up', { code: '000000' }, stale);
      assert.equal(code(wrong), 'MFA_CODE_INVALID');
      const up = await send(
        'POST',
        '/api/v1/auth/step-up',
        { code: await totp(a.secret, a.id) },
        stale,
      );
      assert.equal(up.statusCode, 200, up.body);
      const fresh = up.json<StepUpResponse>();
      assert.ok(Date.parse(fresh.stepUpUntil) > Date.now() + 9 * 60_000);

      const regenOk = await send(
        'POST',
        '/api/v1/me/mfa/recovery-codes',
        undefined,
        fresh.accessToken,
      );
      assert.equal(regenOk.statusCode, 200, regenOk.body);
      const newCodes = regenOk.json<RecoveryCodes>().recoveryCodes;
      assert.equal(newCodes.length, 10);
      // The old codes are gone with the regeneration.
      const c = (await passwordStep(a.account.username, a.account.password)).json<MfaChallenge>();
      const old = await send('POST', '/api/v1/auth/mfa', {
        challenge: c.challenge,
        code: a.codes.recoveryCodes[0]!,
      });
      assert.equal(code(old), 'MFA_CODE_INVALID');

      const changed = await send(
        'POST',
        '/api/v1/me/password',
        { currentPassword: a.account.password, newPassword: 'Another-long-passphrase-1' },
        fresh.accessToken,
      );
      assert.equal(changed.statusCode, 200, changed.body);
      assert.equal(
        decodeJwt(changed.json<TokenResponse>().accessToken).sua,
        decodeJwt(fresh.accessToken).sua,
        'the new session keeps the check',
      );

      // An account without a factor has no step-up to do, and nothing stops it.
      const plain = (
        await send('POST', '/api/v1/auth/register', newAccount('plain'))
      ).json<TokenResponse>();
      const none = await send(
        'POST',
        '/api/v1/auth/step-up',
        { code: '123456' },
        plain.accessToken,
      );
      assert.equal(code(none), 'MFA_NOT_ENABLED');
    });

    test('disabling takes a fresh code; afterwards the password alone signs in', async () => {
      const a = await enrolled();
      const noCode = await send('DELETE', '/api/v1/me/mfa/totp', {}, a.token);
      assert.equal(noCode.statusCode, 400);
      const wrong = await send('DELETE', '/api/v1/me/mfa/totp', { code: '000000' }, a.token);
      assert.equal(code(wrong), 'MFA_CODE_INVALID');
      const off = await send(
        'DELETE',
        '/api/v1/me/mfa/totp',
        { code: await totp(a.secret, a.id) },
        a.token,
      );
      assert.equal(off.statusCode, 200, off.body);
      assert.equal(decodeJwt(off.json<{ accessToken: string }>().accessToken).sua, undefined);
      const login = await passwordStep(a.account.username, a.account.password);
      assert.ok(login.json<TokenResponse>().accessToken, 'tokens at once');
      const count = await h.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM identity.recovery_codes WHERE user_id = $1`,
        [a.id],
      );
      assert.equal(count[0]!.n, 0);
    });
  });
}
