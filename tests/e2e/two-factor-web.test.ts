import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { totpCode } from '@neon/testing';
import type { Embedded } from '../../launcher/src/embedded.js';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage, screenshot } from './lib/browser.js';

/*
 * Two-factor sign-in as a user meets it, in Chromium against the embedded
 * platform: enrol an authenticator app from Settings → Security (the test
 * computes the app's codes from the key the page shows), sign out, sign in
 * with the password and then a code; a recovery code also works once.
 */

const USER = `mfa${process.pid % 100_000}`;
const PASSWORD = 'correct horse battery staple';

async function signIn(page: Page): Promise<void> {
  await page.goto('/login?next=/settings/security');
  await page.getByLabel('Username or email').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).first().waitFor();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: /account menu$/i }).click();
  await page.getByRole('menuitem', { name: 'Log out' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.getByRole('link', { name: 'Log in' }).first().waitFor();
}

describe('two-factor sign-in in the browser', { timeout: 240_000 }, () => {
  let platform: WebPlatform | undefined;
  let neon: Embedded;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let secret = '';
  let recovery: string[] = [];

  before(async () => {
    platform = await startWebPlatform('neon-2fa-e2e-', {
      GATEWAY_AUTH_RATE_LIMIT: '60',
    });
    neon = platform.neon;
    browser = await launchBrowser();
    ({ page, errors } = await newPage(browser, neon.url));
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('1. a user signs up and turns on an authenticator app, and is shown ten recovery codes', async () => {
    await page.goto('/signup?next=/settings/security');
    await page.getByLabel('Username', { exact: true }).fill(USER);
    await page.getByLabel('Email').fill(`${USER}@example.test`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Security' }).waitFor();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByAltText('QR code for your authenticator app');
    await qr.waitFor();
    // The QR code is a real image the browser decoded.
    const width = await qr.evaluate(
      (img) => (img as unknown as { naturalWidth: number }).naturalWidth,
    );
    assert.ok(width > 0, 'the QR code renders');
    secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);

    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByText(/wrong or was already used/).waitFor();
    await page.getByLabel('Authentication code').fill(await totpCode(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const list = page.getByTestId('recovery-codes');
    await list.waitFor();
    recovery = (await list.locator('code').allTextContents()).map((c) => c.trim());
    assert.equal(recovery.length, 10);
    await screenshot(page, 'two-factor-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByTestId('recovery-left').filter({ hasText: '10 recovery codes left' }).waitFor();
  });

  it('2. after signing out, the password alone is not enough: the code from the app signs in', async () => {
    await signOut(page);
    await signIn(page);
    // Still signed out while the code is due.
    await page.goto('/settings/security').catch(() => undefined);
    await page.waitForURL((url) => url.pathname === '/login');
    await signIn(page);
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText(/wrong or was already used/).waitFor();
    // The next time step's code: the one used at enrolment cannot be used again.
    await page.getByLabel('Authentication code').fill(await totpCode(secret, 30));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.pathname === '/settings/security');
    await page.getByTestId('recovery-left').waitFor();
    await screenshot(page, 'two-factor-signed-in');
  });

  it('3. a recovery code signs in once', async () => {
    await signOut(page);
    await signIn(page);
    await page.getByLabel('Authentication code').fill(recovery[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.pathname === '/settings/security');
    await page.getByTestId('recovery-left').filter({ hasText: '9 recovery codes left' }).waitFor();
    await signOut(page);
    await signIn(page);
    await page.getByLabel('Authentication code').fill(recovery[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText(/wrong or was already used/).waitFor();
    assert.deepEqual(
      errors.filter((e) => !/status of 4\d\d/.test(e)),
      [],
    );
  });
});
