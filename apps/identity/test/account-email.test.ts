import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type {
  AdminMailList,
  Me,
  Problem,
  TokenResponse,
  VerifyEmailResponse,
} from '@neon/contracts';
import { createLogger, loadConfig } from '@neon/kit';
import { platformSpec } from '@neon/platform';
import { waitFor } from '@neon/testing';
import { linkIn, type ReceivedMail, type TestSmtpServer } from '@neon/testing/smtp';
import { decodeJwt } from 'jose';
import { adminCommands } from '../src/app.js';
import {
  collect,
  config,
  newAccount,
  PUBLIC_URL,
  start,
  startWithMail,
  variants,
  type Harness,
  type MailStack,
} from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };
const RESET_LINK = `${PUBLIC_URL}/reset-password?token=`;
const VERIFY_LINK = `${PUBLIC_URL}/verify-email?token=`;
const RESET_SUBJECT = 'Reset your Neon password';

const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
const code = (res: { json<T>(): T }) => res.json<Problem>().code;
const sid = (t: TokenResponse) => decodeJwt(t.accessToken).sid as string;

/** Requests through identity as the gateway forwards them, each from its own address. */
function client(h: () => Harness) {
  let address = 0;
  return function send(
    method: 'GET' | 'POST',
    url: string,
    options: { payload?: object | string; user?: Me; headers?: Record<string, string> } = {},
  ) {
    address += 1;
    const u = options.user;
    return h().app.server.inject({
      method,
      url,
      remoteAddress: `198.51.${address >> 8}.${address & 255}`,
      headers: {
        ...BODY,
        ...(typeof options.payload === 'string' ? { 'content-type': 'application/json' } : {}),
        ...(u ? h().as({ id: u.id, username: u.username, roles: u.roles }) : {}),
        ...options.headers,
      },
      ...(options.payload !== undefined ? { payload: options.payload } : {}),
    });
  };
}

// Password reset and email verification against a real SMTP server in this
// process: the mails are read as the server received them.
for (const variant of variants()) {
  describe(
    `password reset and email verification by SMTP (${variant.name})`,
    {
      skip: variant.skip,
    },
    () => {
      let h: Harness;
      let smtp: TestSmtpServer;
      let stack: MailStack | undefined;
      const send = client(() => h);

      before(async () => {
        stack = await startWithMail(variant, {
          MAIL_FROM: 'Neon <no-reply@neon.test>',
          MAIL_MAX_ATTEMPTS: '3',
        });
        ({ h, smtp } = stack);
      });
      after(() => stack?.close());

      async function register(prefix = 'rst') {
        const account = newAccount(prefix);
        const res = await send('POST', '/api/v1/auth/register', { payload: account });
        assert.equal(res.statusCode, 201, res.body);
        return { account, session: res.json<TokenResponse>() };
      }

      async function login(login: string, password: string) {
        return send('POST', '/api/v1/auth/login', { payload: { login, password } });
      }

      async function askReset(email: string) {
        const res = await send('POST', '/api/v1/auth/password-reset', { payload: { email } });
        assert.equal(res.statusCode, 202, res.body);
        return res;
      }

      /** Asks for a reset and reads the link of the mail that comes of it. */
      async function resetLink(email: string): Promise<{ mail: ReceivedMail; token: string }> {
        const before = smtp.mailsTo(email).filter((m) => m.subject === RESET_SUBJECT).length;
        await askReset(email);
        await waitFor(
          () => smtp.mailsTo(email).filter((m) => m.subject === RESET_SUBJECT).length > before,
          { what: 'the reset mail' },
        );
        const mail = smtp.mailsTo(email).filter((m) => m.subject === RESET_SUBJECT)[before]!;
        return { mail, token: tokenOf(linkIn(mail, RESET_LINK)) };
      }

      const confirm = (token: string, password: string) =>
        send('POST', '/api/v1/auth/password-reset/confirm', { payload: { token, password } });

      /** Nothing due in the queue: what was asked for has been sent, dropped or given up on. */
      const queueIdle = () =>
        waitFor(
          async () =>
            (
              await h.db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM identity.mail_queue WHERE status = 'pending'`,
              )
            )[0]!.n === 0,
          { what: 'an idle mail queue', timeoutMs: 15_000 },
        );

      test('reset: the mail’s link sets a new password, ends every session and sends a notice', async () => {
        const { account, session: first } = await register();
        const second = (await login(account.username, account.password)).json<TokenResponse>();
        const events = await collect(h.bus, ['identity.session.revoked.v1']);
        try {
          const { mail, token } = await resetLink(account.email);
          assert.equal(mail.from, 'no-reply@neon.test');
          assert.deepEqual(mail.to, [account.email]);
          assert.ok(mail.html.includes(`${RESET_LINK}${token}`), 'the HTML part has the link too');
          // Stored hashed: the token is in no column, and the sent mail kept no body.
          const rows = await h.db.query<{ token_hash: string }>(
            `SELECT token_hash FROM identity.email_tokens WHERE user_id = $1 AND purpose = 'password-reset'`,
            [first.user.id],
          );
          assert.equal(rows.length, 1);
          assert.notEqual(rows[0]!.token_hash, token);
          // (The server has the mail a moment before the worker records it as sent.)
          const kept = await waitFor(
            async () =>
              (
                await h.db.query<{ content: string | null; status: string }>(
                  `SELECT content, status FROM identity.mail_queue
                  WHERE user_id = $1 AND kind = 'password-reset' AND status = 'sent'`,
                  [first.user.id],
                )
              )[0],
            { what: 'the reset mail recorded as sent' },
          );
          assert.deepEqual(kept, { content: null, status: 'sent' });

          const password = `New-horse-${randomBytes(4).toString('hex')}`;
          const done = await confirm(token, password);
          assert.equal(done.statusCode, 204, done.body);

          // Both sessions were announced as ended before the answer: the gateway refuses their tokens.
          await waitFor(() => events.events.length > 0, { what: 'the revocation event' });
          assert.deepEqual(
            [...events.events[0]!.data.sessionIds].sort(),
            [sid(first), sid(second)].sort(),
          );
          assert.equal(events.events[0]!.data.userId, first.user.id);
          for (const t of [first, second]) {
            const dead = await send('POST', '/api/v1/auth/refresh', {
              payload: { refreshToken: t.refreshToken! },
            });
            assert.equal(dead.statusCode, 401);
            assert.equal(code(dead), 'AUTH_REFRESH_INVALID');
          }
          const old = await login(account.username, account.password);
          assert.equal(code(old), 'AUTH_INVALID_CREDENTIALS');
          const fresh = await login(account.email, password);
          assert.equal(fresh.statusCode, 200, fresh.body);

          const notice = await smtp.waitForMail(account.email, {
            match: (m) => m.subject === 'Your Neon password was changed',
          });
          assert.match(notice.text, /signed out/);

          // Used once: the same link again, nothing changes.
          const again = await confirm(token, `Other-horse-${randomBytes(4).toString('hex')}`);
          assert.equal(again.statusCode, 400);
          assert.equal(code(again), 'AUTH_EMAIL_TOKEN_INVALID');
          assert.equal((await login(account.username, password)).statusCode, 200);
        } finally {
          await events.close();
        }
      });

      test('an unknown address gets the same 202 and body, and no mail', async () => {
        const { account } = await register();
        const unknown = `nobody-${randomBytes(4).toString('hex')}@example.test`;
        const known = await askReset(account.email);
        const none = await askReset(unknown);
        assert.equal(none.body, known.body);
        assert.deepEqual(none.json(), { status: 'queued' });
        assert.equal(none.headers['cache-control'], known.headers['cache-control']);
        await smtp.waitForMail(account.email, { match: (m) => m.subject === RESET_SUBJECT });
        await queueIdle();
        assert.deepEqual(smtp.mailsTo(unknown), []);
        const rows = await h.db.query(`SELECT 1 FROM identity.mail_queue WHERE recipient = $1`, [
          unknown,
        ]);
        assert.equal(rows.length, 0, 'the request for an unknown address is dropped, not kept');
      });

      test('a wrong, expired or superseded link and a weak password are refused', async () => {
        const { account } = await register();
        const password = `New-horse-${randomBytes(4).toString('hex')}`;

        const wrong = await confirm(randomBytes(32).toString('base64url'), password);
        assert.equal(wrong.statusCode, 400);
        assert.equal(code(wrong), 'AUTH_EMAIL_TOKEN_INVALID');

        const { token: older } = await resetLink(account.email);
        const { token } = await resetLink(account.email);

        // The policy applies, and a refused password leaves the link usable.
        const weak = await confirm(token, 'password');
        assert.equal(weak.statusCode, 400);
        assert.equal(code(weak), 'AUTH_PASSWORD_TOO_COMMON');
        const short = await confirm(token, 'short');
        assert.equal(code(short), 'VALIDATION_FAILED');
        const same = await confirm(token, account.username);
        assert.ok(['AUTH_PASSWORD_TOO_COMMON', 'VALIDATION_FAILED'].includes(code(same)));

        // Expired: the row's expiry put in the past.
        await h.db.query(
          `UPDATE identity.email_tokens SET expires_at = now() - interval '1 second'
          WHERE email = $1 AND purpose = 'password-reset'
            AND created_at = (SELECT max(created_at) FROM identity.email_tokens WHERE email = $1)`,
          [account.email],
        );
        const expired = await confirm(token, password);
        assert.equal(expired.statusCode, 400);
        assert.equal(code(expired), 'AUTH_EMAIL_TOKEN_INVALID');

        // The older link still lives 30 minutes; once it is used, every other one dies with it.
        const ok = await confirm(older, password);
        assert.equal(ok.statusCode, 204, ok.body);
        assert.equal((await login(account.username, password)).statusCode, 200);
      });

      test('bad bodies are problems: malformed email, unknown field, oversized, bad token shape', async () => {
        for (const payload of [
          { email: 'not-an-address' },
          { email: 42 },
          {},
          { email: 'a@example.test', extra: true },
          { email: `${'a'.repeat(250)}@example.test` },
        ]) {
          const res = await send('POST', '/api/v1/auth/password-reset', { payload });
          assert.equal(res.statusCode, 400, JSON.stringify(payload));
          assert.equal(code(res), 'VALIDATION_FAILED');
          assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        }
        for (const [url, payload] of [
          ['/api/v1/auth/password-reset/confirm', { token: 'short', password: 'Long-enough-1' }],
          [
            '/api/v1/auth/password-reset/confirm',
            { token: 'x'.repeat(129), password: 'Long-enough-1' },
          ],
          ['/api/v1/auth/password-reset/confirm', { token: 'x'.repeat(43) }],
          ['/api/v1/auth/verify-email', { token: 7 }],
          ['/api/v1/auth/verify-email', {}],
        ] as const) {
          const res = await send('POST', url, { payload });
          assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload)}`);
          assert.equal(code(res), 'VALIDATION_FAILED');
        }
        const huge = await send('POST', '/api/v1/auth/password-reset', {
          payload: JSON.stringify({ email: `${'a'.repeat(2 * 1024 * 1024)}@example.test` }),
        });
        assert.equal(huge.statusCode, 413);
        assert.equal(code(huge), 'PAYLOAD_TOO_LARGE');
      });

      test('reset requests are limited per address, known or not, with the login rules’ 429', async () => {
        const { account } = await register();
        for (const email of [
          account.email,
          `nobody-${randomBytes(4).toString('hex')}@example.test`,
        ]) {
          for (let i = 0; i < 3; i += 1) await askReset(email.toUpperCase());
          const limited = await send('POST', '/api/v1/auth/password-reset', { payload: { email } });
          assert.equal(limited.statusCode, 429, email);
          assert.equal(code(limited), 'AUTH_EMAIL_THROTTLED');
          assert.equal(limited.headers['retry-after'], '1');
        }
        await queueIdle();
        assert.equal(
          smtp.mailsTo(account.email).filter((m) => m.subject === RESET_SUBJECT).length,
          3,
        );
      });

      test('verification: mailed at sign-up, the link verifies once, resend only while unverified', async () => {
        const { account, session } = await register('ver');
        const me = async () =>
          (await send('GET', '/api/v1/me', { user: session.user })).json<Me>().emailVerified;
        assert.equal(session.user.emailVerified, false);
        const mail = await smtp.waitForMail(account.email, {
          match: (m) => m.subject === 'Confirm your email address for Neon',
        });
        const token = tokenOf(linkIn(mail, VERIFY_LINK));

        // A resend sends another link; either works.
        const resend = await send('POST', '/api/v1/me/email-verification', { user: session.user });
        assert.equal(resend.statusCode, 202, resend.body);
        await waitFor(
          () => smtp.mailsTo(account.email).filter((m) => m.subject === mail.subject).length === 2,
          { what: 'the second verification mail' },
        );

        const ok = await send('POST', '/api/v1/auth/verify-email', { payload: { token } });
        assert.equal(ok.statusCode, 200, ok.body);
        assert.deepEqual(ok.json<VerifyEmailResponse>(), {
          email: account.email,
          emailVerified: true,
        });
        assert.equal(await me(), true);

        const reused = await send('POST', '/api/v1/auth/verify-email', { payload: { token } });
        assert.equal(reused.statusCode, 400);
        assert.equal(code(reused), 'AUTH_EMAIL_TOKEN_INVALID');
        // A reset link is not a verification link, nor the other way round.
        const { token: resetToken } = await resetLink(account.email);
        const crossed = await send('POST', '/api/v1/auth/verify-email', {
          payload: { token: resetToken },
        });
        assert.equal(code(crossed), 'AUTH_EMAIL_TOKEN_INVALID');

        const done = await send('POST', '/api/v1/me/email-verification', { user: session.user });
        assert.equal(done.statusCode, 409);
        assert.equal(code(done), 'AUTH_EMAIL_ALREADY_VERIFIED');
        const anonymous = await send('POST', '/api/v1/me/email-verification');
        assert.equal(anonymous.statusCode, 401);
        assert.equal(code(anonymous), 'AUTH_REQUIRED');
      });

      test('a mail the server refuses at first is retried with backoff until it is taken', async () => {
        const { account } = await register('rty');
        await smtp.waitForMail(account.email);
        await queueIdle();
        const refusedBefore = smtp.refused;
        smtp.refuseNext(2);
        const asked = Date.now();
        await askReset(account.email);
        await smtp.waitForMail(account.email, {
          match: (m) => m.subject === RESET_SUBJECT,
          timeoutMs: 15_000,
        });
        assert.equal(smtp.refused - refusedBefore, 2);
        // Waited 1 s, then 2 s: not on the request path, not at once.
        assert.ok(Date.now() - asked >= 2_500, `took ${Date.now() - asked} ms`);
        const row = await waitFor(
          async () =>
            (
              await h.db.query<{ status: string; attempts: number; last_error: string | null }>(
                `SELECT status, attempts, last_error FROM identity.mail_queue
                WHERE recipient = $1 AND kind = 'password-reset' AND status = 'sent'`,
                [account.email],
              )
            )[0],
          { what: 'the mail recorded as sent' },
        );
        assert.deepEqual(row, { status: 'sent', attempts: 3, last_error: null });
      });

      test('a mail that keeps failing is marked failed, and a permanent refusal at once', async () => {
        const { account } = await register('fail');
        await smtp.waitForMail(account.email);
        await queueIdle();
        smtp.refuseNext(3);
        await askReset(account.email);
        const failed = await waitFor(
          async () =>
            (
              await h.db.query<{
                status: string;
                attempts: number;
                last_error: string;
                content: string | null;
              }>(
                `SELECT status, attempts, last_error, content FROM identity.mail_queue
                WHERE recipient = $1 AND kind = 'password-reset' AND status = 'failed'`,
                [account.email],
              )
            )[0],
          { what: 'the mail marked failed', timeoutMs: 15_000 },
        );
        assert.equal(failed.attempts, 3);
        assert.match(failed.last_error, /^451/);
        assert.equal(failed.content, null, 'the link is not kept');

        smtp.refuseNext(1, 550);
        const other = await register('perm');
        const permanent = await waitFor(
          async () =>
            (
              await h.db.query<{ status: string; attempts: number }>(
                `SELECT status, attempts FROM identity.mail_queue WHERE recipient = $1 AND status = 'failed'`,
                [other.account.email],
              )
            )[0],
          { what: 'the refused mail marked failed' },
        );
        assert.deepEqual(permanent, { status: 'failed', attempts: 1 });
      });
    },
  );

  // Without SMTP_URL (a local Neon): mails go to the log, and admins read them at /admin/v1/mail.
  describe(
    `mail without SMTP: the log and the admin list (${variant.name})`,
    {
      skip: variant.skip,
    },
    () => {
      let h: Harness;
      let cleanup: () => Promise<void>;
      let admin: Me;
      const send = client(() => h);

      before(async () => {
        const engines = await variant.open();
        cleanup = () => engines.cleanup();
        h = await start(engines);
        const commands = await adminCommands(
          h.db,
          createLogger({ level: 'silent', pretty: false, name: 'cli' }),
          config(),
          loadConfig(platformSpec, {}).PUBLIC_URL,
        );
        const account = newAccount('root');
        await commands.createAdmin(account);
        admin = (await login(account.username, account.password)).json<TokenResponse>().user;
      });
      after(async () => {
        await h?.close();
        await cleanup?.();
      });

      const login = (login: string, password: string) =>
        send('POST', '/api/v1/auth/login', { payload: { login, password } });

      async function mailTo(email: string, subject: string) {
        return waitFor(
          async () => {
            const res = await send('GET', `/admin/v1/mail?to=${encodeURIComponent(email)}`, {
              user: admin,
            });
            assert.equal(res.statusCode, 200, res.body);
            return res.json<AdminMailList>().items.find((m) => m.subject === subject && m.text);
          },
          { what: `the mail "${subject}" in the admin list` },
        );
      }

      test('an admin reads the mails and a user finishes both flows from them', async () => {
        const account = newAccount('loc');
        const reg = await send('POST', '/api/v1/auth/register', { payload: account });
        assert.equal(reg.statusCode, 201);
        const verify = await mailTo(account.email, 'Confirm your email address for Neon');
        assert.equal(verify.status, 'sent');
        assert.equal(verify.to, account.email);
        const verifyToken = tokenOf(
          verify.text!.split(/\s+/).find((w) => w.startsWith(VERIFY_LINK))!,
        );
        const verified = await send('POST', '/api/v1/auth/verify-email', {
          payload: { token: verifyToken },
        });
        assert.equal(verified.statusCode, 200, verified.body);

        await send('POST', '/api/v1/auth/password-reset', { payload: { email: account.email } });
        const reset = await mailTo(account.email, RESET_SUBJECT);
        const token = tokenOf(reset.text!.split(/\s+/).find((w) => w.startsWith(RESET_LINK))!);
        const password = `Local-horse-${randomBytes(4).toString('hex')}`;
        const done = await send('POST', '/api/v1/auth/password-reset/confirm', {
          payload: { token, password },
        });
        assert.equal(done.statusCode, 204, done.body);
        assert.equal((await login(account.username, password)).statusCode, 200);
      });

      test('the mail list is for admins only', async () => {
        const account = newAccount('nad');
        const user = (
          await send('POST', '/api/v1/auth/register', { payload: account })
        ).json<TokenResponse>().user;
        const forbidden = await send('GET', '/admin/v1/mail', { user });
        assert.equal(forbidden.statusCode, 403);
        assert.equal(code(forbidden), 'FORBIDDEN');
        // A token claiming the role is not enough: the database says who is an admin.
        const claimed = await send('GET', '/admin/v1/mail', {
          user: { ...user, roles: ['user', 'admin'] },
        });
        assert.equal(claimed.statusCode, 403);
        const anonymous = await send('GET', '/admin/v1/mail');
        assert.equal(anonymous.statusCode, 401);
        assert.equal(code(anonymous), 'AUTH_REQUIRED');
        const badQuery = await send('GET', '/admin/v1/mail?limit=1000', { user: admin });
        assert.equal(code(badQuery), 'VALIDATION_FAILED');
      });
    },
  );
}
