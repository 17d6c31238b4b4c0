import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Subscription } from '@neon/bus';
import { syntheticSourceArgs } from '@neon/testing';
import type { Embedded } from '../../launcher/src/embedded.js';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage, screenshot } from './lib/browser.js';
import { run, type Spawned } from './lib/process.js';

/*
 * Notifications and live presence in the browser: user B follows A and keeps
 * the home page open; A publishes with ffmpeg; B's page shows the went-live
 * toast and the bell's unread count without a reload, B opens the channel
 * from the bell and it plays. An anonymous visitor C has A's channel page
 * open from before A went live: the player appears and the viewer count moves
 * to 2 (B and C) by push, without a reload, and A's own dashboard preview
 * does not count. Real gateway, services, ffmpeg and
 * Chromium; the embedded shape.
 */

const suffix = String(process.pid % 100_000);
const A = `glassblower${suffix}`;
const B = `kilnwatcher${suffix}`;
const PASSWORD = 'violet-kettle-hums-42';

async function signUp(page: Page, username: string, next: string): Promise<void> {
  await page.goto(`/signup?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email').fill(`${username}@example.test`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((url) => url.pathname === next, { timeout: 20_000 });
}

/** Resolves once the page has an open notification stream whose address matches `pattern`. */
function streamOpened(page: Page, pattern: RegExp): Promise<unknown> {
  return page.waitForResponse(
    (r) => r.url().includes('/api/v1/notifications/stream') && pattern.test(r.url()) && r.ok(),
    { timeout: 30_000 },
  );
}

describe('notifications and live presence in the web app', { timeout: 300_000 }, () => {
  let platform: WebPlatform | undefined;
  let neon: Embedded;
  let browser: Browser;
  let a: { context: BrowserContext; page: Page; errors: string[] };
  let b: { context: BrowserContext; page: Page; errors: string[] };
  let c: { context: BrowserContext; page: Page; errors: string[] };
  let ffmpeg: Spawned | undefined;
  let started: Subscription | undefined;
  let startedAt = 0;
  let streamKey = '';
  let rtmpUrl = '';

  before(async () => {
    platform = await startWebPlatform('neon-notify-web-e2e-', {
      // Three browser sessions share 127.0.0.1, and each page load refreshes the session once.
      GATEWAY_AUTH_RATE_LIMIT: '60',
    });
    neon = platform.neon;
    // When live announces the broadcast: the figure below is measured from here.
    started = await neon.platform.bus.subscribe({
      types: ['live.stream.started.v1'],
      handler: async () => {
        startedAt = Date.now();
      },
    });
    browser = await launchBrowser();
    a = await newPage(browser, neon.url);
    b = await newPage(browser, neon.url);
    c = await newPage(browser, neon.url);
  });

  after(async () => {
    if (ffmpeg && ffmpeg.child.exitCode === null) await ffmpeg.stop('SIGKILL');
    await started?.close();
    await browser?.close();
    await platform?.close();
  });

  it('1. A signs up and reads the stream key; B signs up and follows A', async () => {
    await signUp(a.page, A, '/dashboard');
    const key = a.page.getByTestId('stream-key');
    await key.waitFor();
    await a.page.getByRole('button', { name: 'Reveal' }).click();
    streamKey = ((await key.textContent()) ?? '').trim();
    rtmpUrl = ((await a.page.getByTestId('rtmp-url').textContent()) ?? '').trim();
    assert.ok(streamKey.length >= 16, 'a stream key is shown');

    await signUp(b.page, B, `/${A}`);
    await b.page.getByRole('button', { name: `Follow ${A}` }).click();
    await b.page.getByRole('button', { name: `Unfollow ${A}` }).waitFor();
  });

  it('2. B waits on the home page, C on A’s offline channel page; A goes live', async () => {
    const bell = streamOpened(b.page, /token=/);
    await b.page.goto('/');
    await bell;
    await b.page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();

    const presence = streamOpened(c.page, new RegExp(`channels=${A}`));
    await c.page.goto(`/${A}`);
    await c.page.getByText(`${A} is offline`).waitFor();
    await presence;

    ffmpeg = run(
      'ffmpeg',
      syntheticSourceArgs(`${rtmpUrl.replace('//localhost', '//127.0.0.1')}/${streamKey}`, {
        width: 640,
        height: 360,
        preset: 'veryfast',
        videoKbps: 800,
        audioKbps: 64,
        logLevel: 'warning',
      }),
      {},
    );
  });

  it('3. B sees the toast and the bell count without a reload, and opens the channel from the bell', async () => {
    const page = b.page;
    const toast = page.locator('.toast').filter({ hasText: `${A} went live` });
    await toast.waitFor({ timeout: 60_000 });
    const toastMs = Date.now() - startedAt;
    await page.getByRole('button', { name: 'Notifications, 1 unread' }).waitFor();
    process.stdout.write(
      `# went-live toast and bell on B's open page ${toastMs} ms after live.stream.started.v1\n`,
    );
    await screenshot(page, 'notify-toast');

    await page.getByRole('button', { name: 'Notifications, 1 unread' }).click();
    await page
      .getByRole('region', { name: 'Notifications' })
      .getByRole('link', { name: new RegExp(`${A} went live`) })
      .click();
    await page.waitForURL(`**/${A}`);
    await page.locator('[data-testid="player"] video').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();
  });

  it('4. C’s page went live by itself, and both pages count two viewers without a reload', async () => {
    await c.page.locator('[data-testid="player"] video').waitFor({ timeout: 30_000 });
    await c.page.getByTestId('viewer-count').waitFor();
    for (const page of [b.page, c.page])
      await page
        .getByTestId('viewer-count')
        .filter({ hasText: /^2 viewers$/ })
        .waitFor({ timeout: 30_000 });
    // A's dashboard plays its own preview meanwhile: the streamer is not an audience, so once the
    // preview has played for longer than a count's publish interval, both pages still say two.
    await a.page.waitForFunction(
      "(document.querySelector('video')?.currentTime ?? 0) > 0",
      undefined,
      {
        timeout: 30_000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    for (const page of [b.page, c.page])
      assert.equal(await page.getByTestId('viewer-count').textContent(), '2 viewers');
    await screenshot(c.page, 'notify-viewers');
    const csp = [...b.errors, ...c.errors].filter((e) => /Content Security Policy/i.test(e));
    assert.deepEqual(csp, [], 'no Content Security Policy violations');
  });
});
