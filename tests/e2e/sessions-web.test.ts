import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage, screenshot, signUp } from './lib/browser.js';

/*
 * "Sign out the others", in Chromium against the embedded platform: one user
 * signed in from two browser contexts (two devices). A lists both sessions,
 * its own marked "This device", and signs the other out; B's next API call
 * is refused (its session ended at once, not when its access token runs out)
 * and B's page is back to signed out.
 */

const USER = `ses${process.pid % 100_000}`;
const PASSWORD = 'correct horse battery staple';

describe('signing out another session from Settings → Security', { timeout: 60_000 }, () => {
  let platform: WebPlatform | undefined;
  let browser: Browser;
  let a: { context: BrowserContext; page: Page; errors: string[] };
  let b: { context: BrowserContext; page: Page; errors: string[] };

  before(async () => {
    platform = await startWebPlatform('neon-sessions-e2e-');
    browser = await launchBrowser();
    a = await newPage(browser, platform.neon.url);
    b = await newPage(browser, platform.neon.url);
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('A sees both sessions and signs B out; B is refused at its next call and shown signed out', async () => {
    await signUp(a.page, USER, PASSWORD, '/settings/security');

    await b.page.goto('/login?next=/settings/security');
    await b.page.getByLabel('Username or email').fill(USER);
    await b.page.getByLabel('Password').fill(PASSWORD);
    await b.page.getByRole('button', { name: 'Log in' }).click();
    await b.page.getByRole('heading', { name: 'Sessions' }).waitFor();

    // A opens the page again: two sessions, its own marked and without a sign-out button.
    await a.page.reload();
    const sessions = a.page.getByTestId('session');
    await a.page.getByText('This device').waitFor();
    await sessions.nth(1).waitFor();
    assert.equal(await sessions.count(), 2);
    const texts = await sessions.allTextContents();
    assert.equal(texts.filter((t) => t.includes('This device')).length, 1, texts.join(' | '));
    for (const t of texts) assert.match(t, /Chrome on Linux/);
    const other = sessions.filter({ hasNotText: 'This device' });
    await other.getByRole('button', { name: /^Sign out Chrome on Linux/ }).click();
    await a.page.getByRole('alertdialog').getByRole('button', { name: 'Sign out' }).click();
    await a.page.getByText('Signed out Chrome on Linux.').waitFor();
    await a.page.getByText('You are not signed in anywhere else.').waitFor();
    assert.equal(await sessions.count(), 1);

    // B's next call (its own list, asking to sign the others out) is refused, its
    // refresh fails, and it is back to signed out.
    const refused = b.page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/me/sessions/revoke-others') && r.status() === 401,
    );
    await b.page.getByRole('button', { name: 'Sign out of all other sessions…' }).click();
    await b.page
      .getByRole('alertdialog')
      .getByRole('button', { name: 'Sign out the others' })
      .click();
    await refused;
    await b.page.getByRole('link', { name: 'Log in' }).first().waitFor();
    await screenshot(b.page, 'sessions-signed-out');

    // A is still signed in and still sees its one session.
    await a.page.reload();
    await a.page.getByText('This device').waitFor();
    assert.equal(await a.page.getByTestId('session').count(), 1);
    assert.deepEqual(a.errors, []);
  });
});
