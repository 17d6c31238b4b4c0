import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { sleep, waitFor } from '@neon/testing';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage } from './lib/browser.js';

/*
 * The web app with a keyboard alone, as a user who cannot use a mouse: sign
 * up, log in and chat (as the channel's owner, who moderates) by Tab, typing,
 * Enter and the arrow keys, with focus landing somewhere useful after every
 * step. Then the not-found pages: once they have said so, they ask the
 * server nothing more. Real gateway, services and Chromium.
 */

const OWNER = `keys${process.pid % 100_000}`;
const PASSWORD = 'violet-kettle-hums-42';

/** What has focus: its tag, accessible label (aria-label, label element or text) and value. */
async function focused(page: Page): Promise<{ tag: string; name: string }> {
  return page.evaluate<{ tag: string; name: string }>(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', name: '' };
    const label = el.getAttribute('aria-label')
      || (el.labels && el.labels[0] ? el.labels[0].textContent : '')
      || el.textContent || '';
    return { tag: el.tagName.toLowerCase(), name: label.trim().replace(/\\s+/g, ' ') };
  })()`);
}

/** Presses Tab until `match` has focus; returns the stops on the way (fails after `max`). */
async function tabTo(
  page: Page,
  match: (f: { tag: string; name: string }) => boolean,
  what: string,
  max = 25,
): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    stops.push(`${f.tag} "${f.name}"`);
    if (match(f)) return stops;
  }
  throw new Error(`${what} not reached in ${max} Tab presses: ${stops.join(' → ')}`);
}

/** The page's main heading has focus (where a screen-reader user starts on a new page). */
async function headingFocused(page: Page, name: RegExp): Promise<void> {
  await waitFor(
    async () => {
      const f = await focused(page);
      return f.tag === 'h1' && name.test(f.name);
    },
    { timeoutMs: 10_000, what: `focus on the heading ${String(name)}` },
  ).catch(async (err: unknown) => {
    throw new Error(`${String(err)}; focus is on ${JSON.stringify(await focused(page))}`);
  });
}

const field = (label: string) => (f: { tag: string; name: string }) =>
  f.tag === 'input' && f.name.startsWith(label);
const button = (label: string) => (f: { tag: string; name: string }) =>
  f.tag === 'button' && f.name === label;

describe('by keyboard alone: sign up, log in, chat and moderate', { timeout: 240_000 }, () => {
  let platform: WebPlatform | undefined;
  let browser: Browser;

  before(async () => {
    platform = await startWebPlatform('neon-keyboard-e2e-', { GATEWAY_AUTH_RATE_LIMIT: '200' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('signs up, signs out, logs in, and chats and moderates on the own channel', async () => {
    const { page, context, errors } = await newPage(browser, platform!.neon.url);

    // Sign up: the form's fields in order, Enter on the button, focus on the new page's heading.
    await page.goto(`/signup?next=${encodeURIComponent(`/${OWNER}`)}`);
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await tabTo(page, field('Username'), 'the Username field');
    await page.keyboard.type(OWNER);
    await tabTo(page, field('Email'), 'the Email field', 3);
    await page.keyboard.type(`${OWNER}@example.test`);
    await tabTo(page, field('Password'), 'the Password field', 3);
    await page.keyboard.type(PASSWORD);
    await tabTo(page, button('Sign up'), 'the Sign up button', 5);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/${OWNER}`, { timeout: 20_000 });
    await headingFocused(page, new RegExp(OWNER, 'i'));

    // Sign out from the account menu: open it with Enter, move with the arrows.
    await tabTo(
      page,
      (f) => f.tag === 'button' && /account|menu/i.test(f.name),
      'the account menu',
    );
    await page.keyboard.press('Enter');
    for (let i = 0; i < 10; i += 1) {
      const f = await focused(page);
      if (/log out|sign out/i.test(f.name)) break;
      await page.keyboard.press('ArrowDown');
    }
    assert.match((await focused(page)).name, /log out|sign out/i, 'the menu reaches Log out');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Log in' }).first().waitFor({ timeout: 10_000 });

    // Log in: Enter in the password field submits; focus lands on the page's heading.
    await page.goto(`/login?next=${encodeURIComponent(`/${OWNER}`)}`);
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await tabTo(page, field('Username or email'), 'the Username or email field');
    await page.keyboard.type(OWNER);
    await tabTo(page, field('Password'), 'the Password field', 3);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/${OWNER}`, { timeout: 20_000 });
    await headingFocused(page, new RegExp(OWNER, 'i'));
    await page.getByText('Connected').waitFor({ timeout: 15_000 });

    // Chat: the input is reached by Tab; Enter sends and the input keeps focus, empty.
    await tabTo(page, field('Chat message'), 'the chat input', 40);
    const bodies = ['first by keyboard', 'second by keyboard', 'third by keyboard'];
    for (const body of bodies) {
      await page.keyboard.type(body);
      await page.keyboard.press('Enter');
      await page.locator('.msg', { hasText: body }).waitFor({ timeout: 10_000 });
      const f = await focused(page);
      assert.ok(
        field('Chat message')(f),
        `focus stays in the chat input, not ${f.tag} "${f.name}"`,
      );
      assert.equal(await page.getByLabel('Chat message', { exact: true }).inputValue(), '');
    }

    // Moderating adds one Tab stop to the chat, not three per message: from the message
    // list back to the input is the list and the chosen message's buttons at most.
    await page.keyboard.down('Shift');
    const back = await tabTo(page, (f) => f.name.startsWith('Chat messages'), 'the message list');
    await page.keyboard.up('Shift');
    assert.ok(back.length <= 4, `from the input back to the list: ${back.join(' → ')}`);

    // The arrows choose a message; its Delete is the next stop; deleting keeps focus in the chat.
    await page.keyboard.press('ArrowUp');
    assert.match((await focused(page)).name, /third by keyboard/, 'ArrowUp picks the newest');
    await page.keyboard.press('ArrowUp');
    assert.match((await focused(page)).name, /second by keyboard/);
    await page.keyboard.press('Tab');
    assert.deepEqual(await focused(page), {
      tag: 'button',
      name: `Delete message from ${OWNER}`,
    });
    await page.keyboard.press('Enter');
    await page
      .locator('.msg', { hasText: 'second by keyboard' })
      .waitFor({ state: 'detached', timeout: 10_000 });
    await sleep(200);
    const after = await focused(page);
    assert.match(after.name, /third by keyboard/, 'focus moves to the next message, not the page');
    assert.deepEqual(errors, [], 'the console stayed clean');
    await context.close();
  });

  it('the not-found pages ask nothing more once they have answered', async () => {
    const paths = [
      `/nochannel${process.pid % 100_000}`,
      '/videos/0190f3a0-0000-7000-8000-000000000000',
      '/no/such/page',
    ];
    await Promise.all(
      paths.map(async (path) => {
        const { page, context } = await newPage(browser, platform!.neon.url);
        const asked: { at: number; url: string }[] = [];
        page.on('request', (req) => {
          if (req.resourceType() === 'fetch' || req.resourceType() === 'xhr')
            asked.push({ at: Date.now(), url: new URL(req.url()).pathname });
        });
        await page.goto(path);
        await page.getByRole('heading', { name: /not found|no such|doesn.t exist/i }).waitFor();
        const shown = Date.now();
        await sleep(15_000);
        const later = asked.filter((r) => r.at > shown + 1000).map((r) => r.url);
        process.stdout.write(
          `# ${path}: ${asked.length} requests, ${later.length} in the 14 s after it said not found\n`,
        );
        assert.deepEqual(later, [], `${path} keeps asking: ${later.join(', ')}`);
        await context.close();
      }),
    );
  });
});
