import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sleep } from '@neon/testing';
import type { Embedded } from '../../launcher/src/embedded.js';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage, screenshot } from './lib/browser.js';

/*
 * Channels in the browser: a viewer finds a channel by a misspelled part of
 * its name, opens it, follows it (the count goes up and it shows under
 * Following); the owner sets the channel up and makes the viewer a moderator
 * from the creator dashboard, and the viewer's next chat message carries the
 * moderator badge without a reload. Then the owner turns on followers-only
 * from the chat panel: a second viewer who does not follow is refused with a
 * sentence saying to follow, follows, and (minimum follow age 0) their next
 * message goes through. Real gateway, services and Chromium.
 */

const suffix = String(process.pid % 100_000);
const OWNER = `modularsynth${suffix}`;
const VIEWER = `patchfan${suffix}`;
const NEWCOMER = `cvnovice${suffix}`;
const PASSWORD = 'violet-kettle-hums-42';

async function signUp(page: Page, username: string, next: string): Promise<void> {
  await page.goto(`/signup?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email').fill(`${username}@example.test`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((url) => url.pathname === next, { timeout: 20_000 });
}

describe(
  'channels in the web app: search, follow, settings, moderators',
  { timeout: 240_000 },
  () => {
    let platform: WebPlatform | undefined;
    let neon: Embedded;
    let browser: Browser;
    let owner: { context: BrowserContext; page: Page; errors: string[] };
    let viewer: { context: BrowserContext; page: Page; errors: string[] };
    let newcomer: { context: BrowserContext; page: Page; errors: string[] };

    before(async () => {
      platform = await startWebPlatform('neon-channels-web-e2e-', {
        // Both browser sessions share 127.0.0.1, and each page load refreshes the session once.
        GATEWAY_AUTH_RATE_LIMIT: '60',
      });
      neon = platform.neon;
      browser = await launchBrowser();
      owner = await newPage(browser, neon.url);
      viewer = await newPage(browser, neon.url);
      newcomer = await newPage(browser, neon.url);
    });

    after(async () => {
      await browser?.close();
      await platform?.close();
    });

    it('1. the owner signs up and sets the channel up from the dashboard', async () => {
      await signUp(owner.page, OWNER, '/dashboard');
      const page = owner.page;
      await page.getByRole('heading', { name: 'Channel settings' }).waitFor();
      const category = page.getByLabel('Category', { exact: true });
      await category.locator('option', { hasText: 'Music' }).waitFor({ state: 'attached' });
      await category.selectOption({ label: 'Music' });
      await page.getByLabel('Tags', { exact: true }).fill('eurorack, ambient');
      await page
        .getByLabel('About', { exact: true })
        .fill('Patching every night. Rack: https://example.org/rack.');
      await page.getByLabel('Link 1', { exact: true }).fill('https://example.org/modular');
      await page.getByRole('button', { name: 'Save channel settings' }).click();
      await page.locator('.settings').getByText('Saved.').waitFor();
      assert.equal(
        await page.getByLabel('Tags', { exact: true }).inputValue(),
        'eurorack, ambient',
      );
    });

    it('2. a viewer finds the channel by a misspelled part of its name and opens it', async () => {
      await signUp(viewer.page, VIEWER, '/');
      const page = viewer.page;
      const box = page.getByRole('combobox', { name: 'Search channels and categories' });
      await box.fill('modulr');
      const suggestion = page.getByRole('option', { name: new RegExp(OWNER) });
      await suggestion.waitFor({ timeout: 15_000 });
      await box.press('ArrowDown');
      assert.equal(await suggestion.getAttribute('aria-selected'), 'true');
      await box.press('Enter');
      await page.waitForURL(`**/${OWNER}`);
      await page.getByRole('link', { name: 'Music' }).waitFor();
      const about = page.locator('.about-text a');
      assert.equal(await about.getAttribute('href'), 'https://example.org/rack');
      assert.equal(await about.getAttribute('rel'), 'noopener noreferrer nofollow');
    });

    it('3. the viewer follows: the count goes up and the channel is under Following', async () => {
      const page = viewer.page;
      const count = page.getByTestId('follower-count');
      await count.filter({ hasText: /^0 followers$/ }).waitFor();
      const following = page.getByRole('navigation', { name: 'Following' });
      assert.equal(await following.getByRole('link', { name: new RegExp(OWNER) }).count(), 0);
      await page.getByRole('button', { name: `Follow ${OWNER}`, exact: true }).click();
      await count.filter({ hasText: /^1 follower$/ }).waitFor();
      await page.getByRole('button', { name: `Unfollow ${OWNER}`, exact: true }).waitFor();
      await following.getByRole('link', { name: new RegExp(OWNER) }).waitFor({ timeout: 10_000 });
      // The server kept it: a reload shows the same.
      await page.reload();
      await page
        .getByTestId('follower-count')
        .filter({ hasText: /^1 follower$/ })
        .waitFor();
      await page.getByRole('button', { name: `Unfollow ${OWNER}`, exact: true }).waitFor();
      await screenshot(page, 'channel-followed');
    });

    it('4. the owner makes the viewer a moderator from the dashboard; the viewer’s chat shows the badge', async () => {
      const page = viewer.page;
      await page.getByText('Connected').waitFor({ timeout: 15_000 });

      await owner.page.goto('/dashboard');
      await owner.page.getByLabel('Username of a new moderator').fill(VIEWER);
      await owner.page.getByRole('button', { name: 'Add moderator' }).click();
      await owner.page
        .getByRole('list', { name: 'Moderators' })
        .getByRole('link', { name: VIEWER })
        .waitFor();
      await screenshot(owner.page, 'dashboard-moderators');

      // Chat learns of the grant from the bus: the next message after it carries the badge.
      const input = page.getByLabel('Chat message', { exact: true });
      let badged = false;
      for (let i = 0; i < 15 && !badged; i++) {
        const body = `am I a moderator yet ${i} ${Date.now()}`;
        await input.fill(body);
        await input.press('Enter');
        const mine = page.locator('.msg', { hasText: body });
        await mine.waitFor({ timeout: 10_000 });
        badged = (await mine.locator('.chip.moderator', { hasText: 'Moderator' }).count()) === 1;
        if (!badged) await sleep(1000);
      }
      assert.ok(badged, 'a message sent after the grant shows the moderator badge');

      await page.reload();
      await page.getByTestId('my-role').filter({ hasText: 'You moderate this channel' }).waitFor();
      for (const [who, errors] of [
        ['owner', owner.errors],
        ['viewer', viewer.errors],
      ] as const) {
        const csp = errors.filter((e) => /Content Security Policy/i.test(e));
        assert.deepEqual(csp, [], `no CSP violations in the ${who}'s page`);
      }
    });

    it('5. the owner turns on followers-only from the chat panel; a newcomer follows to chat', async () => {
      const page = owner.page;
      await page.goto(`/${OWNER}`);
      await page.getByText('Connected').waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'Chat settings' }).click();
      const modes = page.getByRole('group', { name: 'Chat modes' });
      assert.equal(
        await modes.getByLabel('Minimum follow age').inputValue(),
        '0',
        'any follower by default',
      );
      await modes.getByRole('checkbox', { name: 'Followers-only chat' }).check();
      await page
        .getByRole('status', { name: 'Chat modes' })
        .filter({ hasText: /^Followers-only chat$/ })
        .waitFor();
      assert.ok(await modes.getByRole('checkbox', { name: 'Followers-only chat' }).isChecked());
      await screenshot(page, 'chat-modes-menu');

      // Everyone in the room is told, without a reload.
      await viewer.page
        .getByRole('status', { name: 'Chat modes' })
        .filter({ hasText: /^Followers-only chat$/ })
        .waitFor({ timeout: 10_000 });

      await signUp(newcomer.page, NEWCOMER, '/');
      const np = newcomer.page;
      await np.goto(`/${OWNER}`);
      await np.getByText('Connected').waitFor({ timeout: 15_000 });
      await np
        .getByRole('status', { name: 'Chat modes' })
        .filter({ hasText: /^Followers-only chat$/ })
        .waitFor();
      const input = np.getByLabel('Chat message', { exact: true });
      const refused = `may I join ${Date.now()}`;
      await input.fill(refused);
      await input.press('Enter');
      const alert = np.locator('#chat-error');
      await alert
        .filter({ hasText: `This chat is for followers only. Follow ${OWNER} to chat.` })
        .waitFor({ timeout: 10_000 });
      assert.equal(await input.inputValue(), refused, 'the draft stays in the box');
      assert.equal(await np.locator('.msg', { hasText: refused }).count(), 0);
      await screenshot(np, 'chat-followers-only-refused');

      await np.getByRole('button', { name: `Follow ${OWNER}`, exact: true }).click();
      await np.getByRole('button', { name: `Unfollow ${OWNER}`, exact: true }).waitFor();

      // Chat hears of the follow from the bus; the same draft goes through once it has.
      let sent = false;
      for (let i = 0; i < 15 && !sent; i++) {
        await input.press('Enter');
        await Promise.race([
          np.locator('.msg', { hasText: refused }).waitFor({ timeout: 10_000 }),
          alert.waitFor({ timeout: 10_000 }),
        ]);
        sent = (await np.locator('.msg', { hasText: refused }).count()) === 1;
        if (!sent) await sleep(1000);
      }
      assert.ok(sent, 'after following, the message is accepted and shown');
      assert.equal(await input.inputValue(), '');
      await page.locator('.msg', { hasText: refused }).waitFor({ timeout: 10_000 });
      const csp = newcomer.errors.filter((e) => /Content Security Policy/i.test(e));
      assert.deepEqual(csp, [], 'no CSP violations in the newcomer’s page');
    });
  },
);
