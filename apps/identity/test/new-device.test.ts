import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MfaChallenge, RecoveryCodes, TokenResponse, TotpEnrolment } from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { type TestSmtpServer } from '@neon/testing/smtp';
import { generate } from 'otplib';
import {
  newAccount,
  PUBLIC_URL,
  startWithMail,
  variants,
  type Harness,
  type MailStack,
} from './harness.js';

const SUBJECT = 'New sign-in to your Neon account';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** The device cookie a response set (plain http: `neon_device`), if any. */
function deviceCookieOf(res: { headers: Record<string, unknown> }): string | undefined {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  const found = all.find((c) => c.startsWith('neon_device='));
  return found?.slice('neon_device='.length).split(';')[0];
}

// A sign-in from a browser the account has not used mails its owner, through
// a real SMTP server in this process. Browsers are told apart by a long-lived
// device cookie identity sets at every sign-in.
for (const variant of variants()) {
  describe(
    `sign-in mails: a new browser, a locked account (${variant.name})`,
    { skip: variant.skip },
    () => {
      let h: Harness;
      let smtp: TestSmtpServer;
      let stack: MailStack | undefined;
      let address = 0;

      before(async () => {
        stack = await startWithMail(variant);
        ({ h, smtp } = stack);
      });
      after(() => stack?.close());

      /** A browser: its User-Agent, and its cookie jar's device cookie once one was set. */
      function browser(userAgent: string, cookie?: string) {
        const jar = { device: cookie };
        return {
          jar,
          async post(url: string, payload: object, token?: string) {
            address += 1;
            const res = await h.app.server.inject({
              method: 'POST',
              url,
              remoteAddress: `192.0.2.${address & 255}`,
              headers: {
                origin: PUBLIC_URL,
                'user-agent': userAgent,
                ...(jar.device ? { cookie: `neon_device=${jar.device}` } : {}),
                ...(token ? h.asToken(token) : {}),
              },
              payload,
            });
            jar.device = deviceCookieOf(res) ?? jar.device;
            return res;
          },
        };
      }

      /** Signs up in one browser and turns on an authenticator app there. */
      async function signUpWithTotp(account: ReturnType<typeof newAccount>) {
        const home = browser(FIREFOX);
        const session = (await home.post('/api/v1/auth/register', account)).json<TokenResponse>();
        const { secret } = (
          await home.post('/api/v1/me/mfa/totp', {}, session.accessToken)
        ).json<TotpEnrolment>();
        const confirmed = await home.post(
          '/api/v1/me/mfa/totp/confirm',
          { code: await generate({ secret }) },
          session.accessToken,
        );
        assert.equal(confirmed.statusCode, 200, confirmed.body);
        return { session, secret, recoveryCodes: confirmed.json<RecoveryCodes>().recoveryCodes };
      }

      const newDeviceMails = (email: string) =>
        smtp.mailsTo(email).filter((m) => m.subject === SUBJECT);
      /** Long enough for a queued mail to have gone out: the verification mail sent after it did. */
      const settle = async (email: string) => {
        const before = smtp.mailsTo(email).length;
        await h.app.server.inject({
          method: 'POST',
          url: '/api/v1/auth/password-reset',
          headers: { origin: PUBLIC_URL },
          payload: { email },
        });
        await waitFor(() => smtp.mailsTo(email).length > before, { what: 'the reset mail' });
      };

      test('the browser that signed up, and signs in again, is known: no mail; its cookie is kept', async () => {
        const account = newAccount('dev');
        const firefox = browser(FIREFOX);
        const reg = await firefox.post('/api/v1/auth/register', account);
        assert.equal(reg.statusCode, 201, reg.body);
        const first = firefox.jar.device;
        assert.match(first ?? '', /^[A-Za-z0-9_-]{43}$/);
        const setCookie = String(reg.headers['set-cookie']);
        assert.match(
          setCookie,
          /neon_device=[^;]+; Path=\/api\/v1\/auth; Max-Age=34560000; HttpOnly; SameSite=Strict/,
        );

        const again = await firefox.post('/api/v1/auth/login', {
          login: account.username,
          password: account.password,
        });
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(firefox.jar.device, first, 'the same browser keeps its id');
        await settle(account.email);
        assert.deepEqual(newDeviceMails(account.email), []);
      });

      test('another browser mails the owner once, saying which, with a way to the sessions page', async () => {
        const account = newAccount('dev');
        await browser(FIREFOX).post('/api/v1/auth/register', account);
        const phone = browser(SAFARI);
        const res = await phone.post('/api/v1/auth/login', {
          login: account.email,
          password: account.password,
        });
        assert.equal(res.statusCode, 200, res.body);
        const mail = await smtp.waitForMail(account.email, { match: (m) => m.subject === SUBJECT });
        assert.match(
          mail.text,
          /Safari on iPhone, on \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} UTC/,
        );
        assert.match(mail.text, new RegExp(`Hi ${account.username},`));
        assert.ok(mail.text.includes(`${PUBLIC_URL}/settings/security`), mail.text);
        assert.ok(mail.html.includes(`href="${PUBLIC_URL}/settings/security"`));

        // The phone is known now; the first browser was all along.
        await phone.post('/api/v1/auth/login', {
          login: account.email,
          password: account.password,
        });
        await settle(account.email);
        assert.equal(newDeviceMails(account.email).length, 1);
      });

      test('a wrong password, a forged or foreign cookie: no mail for the first, a mail for the others', async () => {
        const account = newAccount('dev');
        await browser(FIREFOX).post('/api/v1/auth/register', account);
        const wrong = await browser(FIREFOX).post('/api/v1/auth/login', {
          login: account.username,
          password: 'not the password at all',
        });
        assert.equal(wrong.statusCode, 401);
        assert.equal(deviceCookieOf(wrong), undefined, 'no cookie without a sign-in');

        // Garbage in the cookie is no cookie: a new id, and a new browser.
        for (const forged of ['x', 'a'.repeat(44), '%00%00', 'é'.repeat(43)]) {
          const b = browser(FIREFOX, forged);
          const res = await b.post('/api/v1/auth/login', {
            login: account.username,
            password: account.password,
          });
          assert.equal(res.statusCode, 200, res.body);
          assert.notEqual(b.jar.device, forged);
          assert.match(b.jar.device ?? '', /^[A-Za-z0-9_-]{43}$/);
        }
        // Another account's browser is new to this one.
        const other = newAccount('dev');
        const theirs = browser(FIREFOX);
        await theirs.post('/api/v1/auth/register', other);
        await theirs.post('/api/v1/auth/login', {
          login: account.username,
          password: account.password,
        });
        await waitFor(() => newDeviceMails(account.email).length === 5, {
          what: 'five new-device mails',
        });
        await settle(other.email);
        assert.deepEqual(newDeviceMails(other.email), []);
      });

      test('wrong passwords that lock the account mail its owner once, with the ways back in', async () => {
        const LOCKED = 'Your Neon account is locked for a while';
        const account = newAccount('lock');
        const reg = await browser(FIREFOX).post('/api/v1/auth/register', account);
        const userId = reg.json<{ user: { id: string } }>().user.id;
        const guesser = browser(SAFARI);
        for (let i = 1; i <= 10; i++) {
          // From the fifth failure on, each guess must wait: the last one is moved back instead.
          await h.db.query(
            `UPDATE identity.login_failures SET last_failed_at = last_failed_at - interval '1 hour'
            WHERE account = $1`,
            [userId],
          );
          const res = await guesser.post('/api/v1/auth/login', {
            login: account.username,
            password: `wrong-${i}`,
          });
          assert.equal(res.statusCode, 401, `guess ${i}: ${res.body}`);
        }
        const mail = await smtp.waitForMail(account.email, { match: (m) => m.subject === LOCKED });
        assert.match(mail.text, /until \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} UTC/);
        assert.ok(mail.text.includes(`${PUBLIC_URL}/forgot-password`), mail.text);
        assert.ok(mail.text.includes(`${PUBLIC_URL}/settings/security`), mail.text);

        // Locked, the right password is refused, and no second mail goes out.
        const locked = await guesser.post('/api/v1/auth/login', {
          login: account.username,
          password: account.password,
        });
        assert.equal(locked.json<{ code: string }>().code, 'AUTH_ACCOUNT_LOCKED');
        await settle(account.email);
        assert.equal(smtp.mailsTo(account.email).filter((m) => m.subject === LOCKED).length, 1);
      });

      test('wrong two-factor codes that lock sign-in mail its owner once, saying the password is known', async () => {
        const LOCKED = 'Your Neon account is locked for a while';
        const account = newAccount('mfalock');
        const { session, secret, recoveryCodes } = await signUpWithTotp(account);
        const userId = session.user.id;

        const guesser = browser(SAFARI);
        const challenge = async () => {
          const step = await guesser.post('/api/v1/auth/login', {
            login: account.username,
            password: account.password,
          });
          assert.equal(step.statusCode, 200, step.body);
          return step.json<MfaChallenge>().challenge;
        };
        for (let i = 1; i <= 10; i++) {
          // From the fifth failure on, each code must wait: the last one is moved back instead.
          await h.db.query(
            `UPDATE identity.login_failures SET last_failed_at = last_failed_at - interval '1 hour'
            WHERE account = $1`,
            [`mfa:${userId}`],
          );
          const current = await generate({ secret });
          const wrong = current === '000000' ? '000001' : '000000';
          const res = await guesser.post('/api/v1/auth/mfa', {
            challenge: await challenge(),
            code: wrong,
          });
          assert.equal(
            res.json<{ code: string }>().code,
            'MFA_CODE_INVALID',
            `code ${i}: ${res.body}`,
          );
        }
        const mail = await smtp.waitForMail(account.email, { match: (m) => m.subject === LOCKED });
        assert.match(mail.text, /got past your Neon password/);
        assert.match(mail.text, /your password is known to someone else/);
        assert.ok(mail.text.includes(`${PUBLIC_URL}/forgot-password`), mail.text);
        assert.ok(mail.text.includes(`${PUBLIC_URL}/settings/security`), mail.text);

        // Locked: a recovery code is refused too, and no second mail goes out.
        const locked = await guesser.post('/api/v1/auth/mfa', {
          challenge: await challenge(),
          code: recoveryCodes[0]!,
        });
        assert.equal(locked.json<{ code: string }>().code, 'MFA_THROTTLED');
        await settle(account.email);
        assert.equal(smtp.mailsTo(account.email).filter((m) => m.subject === LOCKED).length, 1);
      });

      test('with two-factor sign-in, the mail comes once the code is checked, not at the password', async () => {
        const account = newAccount('dev');
        const { recoveryCodes } = await signUpWithTotp(account);

        const phone = browser(SAFARI);
        const step = await phone.post('/api/v1/auth/login', {
          login: account.username,
          password: account.password,
        });
        const challenge = step.json<MfaChallenge>();
        assert.equal(challenge.mfaRequired, true);
        await settle(account.email);
        assert.deepEqual(newDeviceMails(account.email), [], 'the password alone signs nobody in');

        const done = await phone.post('/api/v1/auth/mfa', {
          challenge: challenge.challenge,
          code: recoveryCodes[0]!,
        });
        assert.equal(done.statusCode, 200, done.body);
        await smtp.waitForMail(account.email, { match: (m) => m.subject === SUBJECT });
        assert.equal(newDeviceMails(account.email).length, 1);
      });
    },
  );
}
