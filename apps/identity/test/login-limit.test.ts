import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newAccount, start, variants, type Harness } from './harness.js';

// One account guessed at from many addresses: the count is the account's,
// not the address's. Time is moved by ageing the stored failure, never by
// waiting.
for (const variant of variants()) {
  describe(`failed logins per account (${variant.name})`, { skip: variant.skip }, () => {
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

    /** Each attempt from another client address. */
    function login(login: string, password: string) {
      address += 1;
      return h.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: `198.51.${address >> 8}.${address & 255}`,
        payload: { login, password },
      });
    }

    async function registered() {
      const account = newAccount('lim');
      const res = await h.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: account,
      });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json<{ user: { id: string }; accessToken: string }>();
      return { ...account, id: body.user.id, accessToken: body.accessToken };
    }

    /** The last failure happened `ms` earlier than stored. */
    async function age(userId: string, ms: number, column = 'last_failed_at') {
      await h.db.query(
        `UPDATE identity.login_failures SET ${column} = ${column} - make_interval(secs => $2)
          WHERE account = $1`,
        [userId, ms / 1000],
      );
    }

    test('five wrong passwords slow the account down, ten lock it, and the lock refuses the right password', async () => {
      const a = await registered();
      for (let i = 1; i <= 5; i++) {
        const res = await login(a.username, `wrong-${i}`);
        assert.equal(res.statusCode, 401, `failure ${i}`);
        assert.equal(res.json<{ code: string }>().code, 'AUTH_INVALID_CREDENTIALS');
      }
      // Slowed: the next attempt at once, from yet another address, waits.
      const slowed = await login(a.username, 'wrong-6');
      assert.equal(slowed.statusCode, 429);
      assert.equal(slowed.json<{ code: string }>().code, 'AUTH_LOGIN_THROTTLED');
      assert.match(String(slowed.headers['content-type']), /^application\/problem\+json/);
      assert.ok(Number(slowed.headers['retry-after']) >= 1);
      const rightButTooSoon = await login(a.email, a.password);
      assert.equal(rightButTooSoon.statusCode, 429, 'the password is not even looked at');

      // Each further failure doubles the wait; the tenth locks the account.
      let lastWait = 0;
      for (let i = 6; i <= 10; i++) {
        await age(a.id, 60_000);
        const res = await login(a.username, `wrong-${i}`);
        assert.equal(res.statusCode, 401, `failure ${i}`);
        if (i < 10) {
          const wait = await login(a.username, 'again');
          assert.equal(wait.statusCode, 429);
          const seconds = Number(wait.headers['retry-after']);
          assert.ok(seconds > lastWait, `the wait grows: ${seconds} after ${lastWait}`);
          lastWait = seconds;
        }
      }
      await age(a.id, 60_000);
      const locked = await login(a.email, a.password);
      assert.equal(locked.statusCode, 429, 'the right password during the lock');
      assert.equal(locked.json<{ code: string }>().code, 'AUTH_ACCOUNT_LOCKED');
      const retry = Number(locked.headers['retry-after']);
      assert.ok(retry > 14 * 60 && retry <= 15 * 60, `locked for 15 minutes: ${retry}`);

      // Another account is untouched by all this.
      const b = await registered();
      assert.equal((await login(b.username, b.password)).statusCode, 200);

      // Once the lock has run out, the right password works, and the count starts over.
      await h.db.query(
        `UPDATE identity.login_failures SET locked_until = now() - interval '1 second'
          WHERE account = $1`,
        [a.id],
      );
      assert.equal((await login(a.username, a.password)).statusCode, 200);
      for (let i = 1; i <= 5; i++) {
        assert.equal((await login(a.username, `after-${i}`)).statusCode, 401);
      }
    });

    test('a login no account has is slowed and locked like a real one, so a 429 tells nothing', async () => {
      const real = await registered();
      const ghost = `ghost-${real.username}`;
      for (const name of [real.username, ghost]) {
        for (let i = 1; i <= 5; i++) {
          const res = await login(name, `wrong-${i}`);
          assert.equal(res.statusCode, 401, `${name} failure ${i}`);
        }
        const slowed = await login(name, 'wrong-6');
        assert.equal(slowed.statusCode, 429, name);
        assert.equal(slowed.json<{ code: string }>().code, 'AUTH_LOGIN_THROTTLED');
      }
      // Spelled with capitals, the unknown login is the same one.
      const upper = await login(ghost.toUpperCase(), 'wrong-7');
      assert.equal(upper.statusCode, 429);
    });

    test('a stolen session gets no extra guesses: a wrong current password counts with failed sign-ins', async () => {
      const a = await registered();
      const asked = (url: string, body: Record<string, string>) =>
        h.app.server.inject({
          method: 'POST',
          url,
          headers: h.asToken(a.accessToken),
          payload: body,
        });
      const changePassword = (currentPassword: string) =>
        asked('/api/v1/me/password', { currentPassword, newPassword: 'Brand-new-pass-42' });
      const changeEmail = (password: string) =>
        asked('/api/v1/me/email', { email: `moved-${a.email}`, password });

      for (let i = 1; i <= 3; i++) {
        const res = await changePassword(`wrong-${i}`);
        assert.equal(res.json<{ code: string }>().code, 'AUTH_PASSWORD_WRONG', `failure ${i}`);
      }
      assert.equal(
        (await changeEmail('wrong-4')).json<{ code: string }>().code,
        'AUTH_PASSWORD_WRONG',
      );
      assert.equal((await login(a.username, 'wrong-5')).statusCode, 401);
      // The sixth guess, by either way in, waits; the right password is not even looked at.
      const slowed = await changePassword(a.password);
      assert.equal(slowed.statusCode, 429);
      assert.equal(slowed.json<{ code: string }>().code, 'AUTH_LOGIN_THROTTLED');
      assert.ok(Number(slowed.headers['retry-after']) >= 1);
      assert.equal((await changeEmail(a.password)).statusCode, 429);

      // Guessing on through the session locks the account for sign-in too.
      for (let i = 6; i <= 10; i++) {
        await age(a.id, 60_000);
        assert.equal((await changeEmail(`wrong-${i}`)).statusCode, 400, `failure ${i}`);
      }
      await age(a.id, 60_000);
      const locked = await login(a.username, a.password);
      assert.equal(locked.json<{ code: string }>().code, 'AUTH_ACCOUNT_LOCKED');
      assert.equal(
        (await changePassword(a.password)).json<{ code: string }>().code,
        'AUTH_ACCOUNT_LOCKED',
      );

      // The owner's right password, once the lock is over, clears the count.
      await h.db.query(
        `UPDATE identity.login_failures SET locked_until = now() - interval '1 second'
          WHERE account = $1`,
        [a.id],
      );
      assert.equal((await changeEmail(a.password)).statusCode, 202);
      const rows = await h.db.query(`SELECT 1 FROM identity.login_failures WHERE account = $1`, [
        a.id,
      ]);
      assert.equal(rows.length, 0);
    });

    test('a success resets the count; failures older than 15 minutes no longer count', async () => {
      const a = await registered();
      for (let i = 1; i <= 4; i++) assert.equal((await login(a.username, 'nope')).statusCode, 401);
      assert.equal((await login(a.username, a.password)).statusCode, 200);
      for (let i = 1; i <= 5; i++) assert.equal((await login(a.username, 'nope')).statusCode, 401);
      assert.equal((await login(a.username, 'nope')).statusCode, 429);

      // Fifteen minutes later the window is over: wrong passwords count from one again.
      await age(a.id, 15 * 60_000 + 1000, 'first_failed_at');
      await age(a.id, 15 * 60_000 + 1000);
      for (let i = 1; i <= 5; i++) {
        assert.equal((await login(a.username, 'nope')).statusCode, 401, `new window ${i}`);
      }
    });
  });
}
