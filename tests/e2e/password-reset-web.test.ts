import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REFRESH_TRANSPORT_HEADER, type Problem, type TokenResponse } from '@neon/contracts';
import { startSmtpServer, type TestSmtpServer } from '@neon/testing/smtp';
import { axe, PHONE, startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage, screenshot } from './lib/browser.js';

/*
 * "Forgot password?" as a user meets it, in Chromium against the embedded
 * platform sending its mail to a real SMTP server in this process. The user
 * is signed in on one device (context B); on a phone (context A) they ask for
 * a reset, the test reads the link from the mail the server received, A sets
 * a new password and signs in with it, and B's session is over: its access
 * token is refused by the gateway and a reload finds it signed out. Then the
 * owner finds the mail about B's sign-in from a new browser, and moves the
 * account to another address by the link mailed to it.
 */

const USER = `rst${process.pid % 100_000}`;
const EMAIL = `${USER}@example.test`;
const OLD_PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new horse 42';

describe('password reset by mail in the browser', { timeout: 180_000 }, () => {
  let platform: WebPlatform | undefined;
  let smtp: TestSmtpServer | undefined;
  let browser: Browser;
  let a: { context: BrowserContext; page: Page; errors: string[] };
  let b: { context: BrowserContext; page: Page; errors: string[] };

  before(async () => {
    smtp = await startSmtpServer();
    platform = await startWebPlatform('neon-reset-e2e-', {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Neon <no-reply@neon.test>',
    });
    browser = await launchBrowser();
    a = await newPage(browser, platform.neon.url, PHONE);
    b = await newPage(browser, platform.neon.url);
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
    await smtp?.close();
  });

  it('resets from the mailed link, signs in with the new password and ends the other session', async () => {
    const url = platform!.neon.url;
    const registered = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [REFRESH_TRANSPORT_HEADER]: 'body' },
      body: JSON.stringify({ username: USER, email: EMAIL, password: OLD_PASSWORD }),
    });
    assert.equal(registered.status, 201, await registered.text());

    // Device B signs in; its access token is kept to ask the gateway with it later.
    await b.page.goto('/login?next=/settings/security');
    await b.page.getByLabel('Username or email').fill(USER);
    await b.page.getByLabel('Password').fill(OLD_PASSWORD);
    const signedIn = b.page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await b.page.getByRole('button', { name: 'Log in' }).click();
    const bToken = ((await (await signedIn).json()) as TokenResponse).accessToken;
    await b.page.getByRole('heading', { name: 'Sessions' }).waitFor();
    const me = (token: string) =>
      fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await me(bToken)).status, 200);

    // On the phone: the login page, "Forgot password?", the address.
    await a.page.goto('/login');
    await a.page.getByRole('link', { name: 'Forgot password?' }).click();
    await a.page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await a.page.getByLabel('Email').fill(EMAIL);
    await a.page.getByRole('button', { name: 'Send the link' }).click();
    await a.page.getByTestId('reset-requested').waitFor();
    assert.deepEqual(await axe(a.page), [], 'the request page passes axe');

    const mail = await smtp!.waitForMail(EMAIL, {
      match: (m) => m.subject === 'Reset your Neon password',
      timeoutMs: 20_000,
    });
    const link = /https?:\/\/\S+\/reset-password\?token=\S+/.exec(mail.text)?.[0];
    assert.ok(link, mail.text);
    assert.equal(new URL(link).origin, new URL(url).origin, 'the link leads to this Neon');

    const { pathname, search } = new URL(link);
    await a.page.goto(pathname + search);
    const heading = a.page.getByRole('heading', { name: 'Choose a new password' });
    await heading.waitFor();
    assert.equal(
      await a.page.evaluate<string | undefined>('document.activeElement?.textContent'),
      'Choose a new password',
      'the heading has focus',
    );
    assert.deepEqual(await axe(a.page), [], 'the reset page passes axe');
    const fits = await a.page.evaluate<boolean>(
      'document.documentElement.scrollWidth <= window.innerWidth',
    );
    assert.ok(fits, 'no sideways scrolling on a phone');
    await a.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await a.page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await a.page.getByRole('button', { name: 'Set the new password' }).click();
    await a.page.getByTestId('reset-done').waitFor();
    await screenshot(a.page, 'password-reset-done');

    // B's session ended with the reset: the gateway refuses its token at once.
    const refused = await me(bToken);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as Problem).code, 'AUTH_TOKEN_INVALID');

    // The old password no longer works; the new one does.
    await a.page
      .getByRole('group', { name: 'Password changed' })
      .getByRole('link', { name: 'Log in' })
      .click();
    await a.page.getByLabel('Username or email').fill(USER);
    await a.page.getByLabel('Password').fill(OLD_PASSWORD);
    await a.page.getByRole('button', { name: 'Log in' }).click();
    await a.page.getByText('Wrong username, email or password.').waitFor();
    await a.page.getByLabel('Password').fill(NEW_PASSWORD);
    await a.page.getByRole('button', { name: 'Log in' }).click();
    await a.page.waitForURL((u) => u.pathname === '/', { timeout: 20_000 });

    // B, reloaded, cannot refresh its ended session and is sent to log in.
    await b.page.reload();
    await b.page.waitForURL((u) => u.pathname === '/login', { timeout: 20_000 });

    // And the owner is told by mail.
    await smtp!.waitForMail(EMAIL, {
      match: (m) => m.subject === 'Your Neon password was changed',
    });
    assert.deepEqual(
      a.errors.filter((e) => !/401|400/.test(e)),
      [],
    );
  });

  it('a sign-in from a browser the account had not used was mailed to its owner', async () => {
    // The account was made without a browser; B's login was its first browser sign-in after it.
    const mail = await smtp!.waitForMail(EMAIL, {
      match: (m) => m.subject === 'New sign-in to your Neon account',
      timeoutMs: 20_000,
    });
    assert.match(mail.text, /Chrome on Linux, on .* UTC\./);
    assert.ok(mail.text.includes(`${platform!.neon.url}/settings/security`), mail.text);
  });

  it('changes the address from Settings → Security by the link mailed to the new one', async () => {
    const newEmail = `${USER}.new@example.test`;
    const page = a.page;
    await page.goto('/settings/security');
    await page.getByRole('button', { name: 'Change email' }).click();
    await page.getByLabel('New email address').fill(newEmail);
    await page.getByLabel('Current password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByTestId('email-change-sent').waitFor();
    assert.equal(await page.getByTestId('account-email').textContent(), EMAIL, 'not yet changed');
    assert.deepEqual(await axe(page), [], 'the settings page passes axe');

    const mail = await smtp!.waitForMail(newEmail, {
      match: (m) => m.subject === 'Confirm your new email address for Neon',
      timeoutMs: 20_000,
    });
    await smtp!.waitForMail(EMAIL, {
      match: (m) => m.subject === 'A new email address was asked for your Neon account',
    });
    const link = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(mail.text)?.[0];
    assert.ok(link, mail.text);
    const { pathname, search } = new URL(link);
    await page.goto(pathname + search);
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await page.getByTestId('email-verified').filter({ hasText: newEmail }).waitFor();
    await page.getByRole('link', { name: 'Back to settings' }).click();
    await page.getByTestId('account-email').filter({ hasText: newEmail }).waitFor();
    assert.equal(await page.getByTestId('email-state').textContent(), 'Confirmed');
  });
});
