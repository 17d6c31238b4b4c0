import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Me, Problem, TokenResponse, VerifyEmailResponse } from '@neon/contracts';
import { waitFor } from '@neon/testing';
import { linkIn, type TestSmtpServer } from '@neon/testing/smtp';
import {
  newAccount,
  PUBLIC_URL,
  startWithMail,
  variants,
  type Harness,
  type MailStack,
} from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };
const CONFIRM_SUBJECT = 'Confirm your new email address for Neon';
const NOTICE_SUBJECT = 'A new email address was asked for your Neon account';
const VERIFY_LINK = `${PUBLIC_URL}/verify-email?token=`;
const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

// A change of address: a link to the new address makes the change, a notice
// goes to the old one; through identity's HTTP API and a real SMTP server.
for (const variant of variants()) {
  describe(`change of email address (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let smtp: TestSmtpServer;
    let stack: MailStack | undefined;
    let address = 0;

    before(async () => {
      stack = await startWithMail(variant);
      ({ h, smtp } = stack);
    });
    after(() => stack?.close());

    function send(
      url: string,
      payload: object | undefined,
      user?: Me,
      extra: Record<string, string> = {},
    ) {
      address += 1;
      return h.app.server.inject({
        method: user || payload ? 'POST' : 'GET',
        url,
        remoteAddress: `198.18.${address >> 8}.${address & 255}`,
        headers: {
          ...BODY,
          ...(user ? h.as({ id: user.id, username: user.username, roles: user.roles }) : {}),
          ...extra,
        },
        ...(payload ? { payload } : {}),
      });
    }
    const get = (url: string, user: Me) =>
      h.app.server.inject({
        url,
        headers: h.as({ id: user.id, username: user.username, roles: user.roles }),
      });
    const problem = (res: { statusCode: number; body: string }, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.equal(JSON.parse(res.body).code, code, res.body);
    };
    async function register() {
      const account = newAccount('mv');
      const res = await send('/api/v1/auth/register', account);
      assert.equal(res.statusCode, 201, res.body);
      return { account, user: res.json<TokenResponse>().user };
    }
    const fresh = () => `${newAccount('to').username}@example.test`;
    const confirmLink = async (to: string, nth = 0) => {
      await waitFor(
        () => smtp.mailsTo(to).filter((m) => m.subject === CONFIRM_SUBJECT).length > nth,
        { what: `confirmation mail ${nth + 1} to ${to}` },
      );
      return linkIn(
        smtp.mailsTo(to).filter((m) => m.subject === CONFIRM_SUBJECT)[nth]!,
        VERIFY_LINK,
      );
    };

    test('the link to the new address makes the change; the old address is told, masked', async () => {
      const { account, user } = await register();
      const to = fresh();
      const asked = await send(
        '/api/v1/me/email',
        { email: to.toUpperCase(), password: account.password },
        user,
      );
      assert.equal(asked.statusCode, 202, asked.body);
      assert.deepEqual(asked.json(), { status: 'queued' });

      const link = await confirmLink(to);
      const notice = await smtp.waitForMail(account.email, {
        match: (m) => m.subject === NOTICE_SUBJECT,
      });
      assert.ok(!notice.text.includes(to), 'the new address is not spelled out to the old one');
      assert.match(notice.text, new RegExp(`${to[0]}\\*{3,}@example\\.test`));
      assert.ok(notice.text.includes(`${PUBLIC_URL}/settings/security`));

      // Nothing changes before the link is followed.
      assert.equal((await get('/api/v1/me', user)).json<Me>().email, account.email);
      assert.equal(
        (await send('/api/v1/auth/login', { login: account.email, password: account.password }))
          .statusCode,
        200,
      );

      const done = await send('/api/v1/auth/verify-email', { token: tokenOf(link) });
      assert.equal(done.statusCode, 200, done.body);
      assert.deepEqual(done.json<VerifyEmailResponse>(), { email: to, emailVerified: true });
      const me = (await get('/api/v1/me', user)).json<Me>();
      assert.equal(me.email, to);
      assert.equal(me.emailVerified, true);
      assert.equal(
        (await send('/api/v1/auth/login', { login: to, password: account.password })).statusCode,
        200,
      );
      problem(
        await send('/api/v1/auth/login', { login: account.email, password: account.password }),
        401,
        'AUTH_INVALID_CREDENTIALS',
      );
      // Once only.
      problem(
        await send('/api/v1/auth/verify-email', { token: tokenOf(link) }),
        400,
        'AUTH_EMAIL_TOKEN_INVALID',
      );
    });

    test('refused: a wrong password, the same address, a taken one, a malformed one, nobody signed in', async () => {
      const { account, user } = await register();
      const other = await register();
      problem(
        await send('/api/v1/me/email', { email: fresh(), password: 'wrong password!' }, user),
        400,
        'AUTH_PASSWORD_WRONG',
      );
      problem(
        await send(
          '/api/v1/me/email',
          { email: account.email.toUpperCase(), password: account.password },
          user,
        ),
        400,
        'AUTH_EMAIL_UNCHANGED',
      );
      problem(
        await send(
          '/api/v1/me/email',
          { email: other.account.email, password: account.password },
          user,
        ),
        409,
        'AUTH_EMAIL_TAKEN',
      );
      for (const email of ['no-at-sign', '', `${'x'.repeat(250)}@example.test`])
        problem(
          await send('/api/v1/me/email', { email, password: account.password }, user),
          400,
          'VALIDATION_FAILED',
        );
      problem(
        await send(
          '/api/v1/me/email',
          { email: fresh(), password: account.password, extra: 1 },
          user,
        ),
        400,
        'VALIDATION_FAILED',
      );
      problem(
        await send('/api/v1/me/email', { email: fresh(), password: account.password }),
        401,
        'AUTH_REQUIRED',
      );
      // An account with a second factor checked long ago must check it again.
      const stale = h.as({
        id: user.id,
        username: user.username,
        roles: user.roles,
        stepUpAt: Math.floor(Date.now() / 1000) - 3600,
      });
      problem(
        await send(
          '/api/v1/me/email',
          { email: fresh(), password: account.password },
          undefined,
          stale,
        ),
        403,
        'AUTH_STEP_UP_REQUIRED',
      );
      assert.equal((await get('/api/v1/me', user)).json<Me>().email, account.email);
    });

    test('a newer request voids the older link; an address taken meanwhile is refused at the click', async () => {
      const { account, user } = await register();
      const first = fresh();
      const second = fresh();
      await send('/api/v1/me/email', { email: first, password: account.password }, user);
      const firstLink = await confirmLink(first);
      await send('/api/v1/me/email', { email: second, password: account.password }, user);
      const secondLink = await confirmLink(second);
      problem(
        await send('/api/v1/auth/verify-email', { token: tokenOf(firstLink) }),
        400,
        'AUTH_EMAIL_TOKEN_INVALID',
      );

      // Someone signs up with the second address before the owner clicks.
      const squatter = { ...newAccount('sq'), email: second };
      assert.equal((await send('/api/v1/auth/register', squatter)).statusCode, 201);
      problem(
        await send('/api/v1/auth/verify-email', { token: tokenOf(secondLink) }),
        409,
        'AUTH_EMAIL_TAKEN',
      );
      assert.equal((await get('/api/v1/me', user)).json<Me>().email, account.email);
      const problemBody = (
        await send('/api/v1/auth/verify-email', { token: 'x'.repeat(43) })
      ).json<Problem>();
      assert.equal(problemBody.code, 'AUTH_EMAIL_TOKEN_INVALID');
    });
  });
}
