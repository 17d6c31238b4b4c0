import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminCommands, identitySpec } from '@neon/identity';
import { loadConfig } from '@neon/kit';
import { syntheticSourceArgs, totpCode } from '@neon/testing';
import type { Embedded } from '../../launcher/src/embedded.js';
import { launchBrowser, newPage, screenshot, signUp } from './lib/browser.js';
import { run, type Spawned } from './lib/process.js';
import {
  axe,
  DESKTOP,
  overflow,
  PHONE,
  startWebPlatform,
  type WebPlatform,
} from './lib/web-platform.js';

/*
 * Every page of the web app, as a phone (390×844) and a desktop, in the dark
 * and the light theme, signed out and signed in, checked by axe-core against
 * WCAG 2.0, 2.1 and 2.2 A/AA: no violation. On the phone no page is wider
 * than the screen; but on the not-found pages, the console stays clean. Then the phone layouts that matter while using them: the
 * live video stays in view while typing in chat, the player's controls fit on
 * one line, the stream key's Copy stays inside its panel, the theme toggle
 * sticks across a reload. Real gateway, services, ffmpeg and Chromium.
 */

const suffix = String(process.pid % 100_000);
const STREAMER = `a11ystreamer${suffix}`;
const QUIET = `a11yquiet${suffix}`;
const PASSWORD = 'violet-kettle-hums-42';
const UNKNOWN_VIDEO = '0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee';

/** Waits for a page's heading and for its spinners and skeletons to go. */
async function settle(page: Page, ready?: (page: Page) => Promise<void>): Promise<void> {
  await page.locator('main h1').first().waitFor({ timeout: 20_000 });
  await page
    .locator('main .spinner:not(.over), main .skeleton')
    .first()
    .waitFor({ state: 'detached', timeout: 20_000 });
  if (ready) await ready(page);
}

function publish(rtmpUrl: string, key: string): Spawned {
  return run(
    'ffmpeg',
    syntheticSourceArgs(`${rtmpUrl}/${key}`, {
      width: 640,
      height: 360,
      preset: 'veryfast',
      videoKbps: 800,
      logLevel: 'warning',
    }),
    {},
  );
}

interface Target {
  path: string;
  ready?: (page: Page) => Promise<void>;
  notFound?: boolean;
}

describe('accessibility and phone layout of every page', { timeout: 900_000 }, () => {
  let platform: WebPlatform | undefined;
  let neon: Embedded;
  let browser: Browser;
  let streamer: { context: BrowserContext; page: Page; errors: string[] };
  let stranger: { context: BrowserContext; page: Page; errors: string[] };
  let ffmpeg: Spawned | undefined;
  let rtmpUrl = '';
  let streamKey = '';
  let videoPath = '';

  const chatReady = async (page: Page) => {
    await page.getByText('Connected').waitFor({ timeout: 15_000 });
  };

  before(async () => {
    platform = await startWebPlatform('neon-a11y-e2e-', {
      RECONNECT_GRACE_SECONDS: '1',
      // The past broadcast is listed once the ladder has drained; on a busy machine that can
      // take the whole default minute, and these pages are not about the ladder.
      LIVE_LADDER_DRAIN_MS: '5000',
      // Every page load of a signed-in session refreshes it once.
      GATEWAY_AUTH_RATE_LIMIT: '1000',
    });
    neon = platform.neon;
    browser = await launchBrowser();
    streamer = await newPage(browser, neon.url);
    stranger = await newPage(browser, neon.url);

    // A quiet channel that has never been live, and a streamer who is an admin.
    await signUp(stranger.page, QUIET, PASSWORD, '/');
    await stranger.context.clearCookies();
    await stranger.page.evaluate('localStorage.clear()');
    await signUp(streamer.page, STREAMER, PASSWORD, '/dashboard');
    const commands = await adminCommands(
      neon.platform.db,
      neon.platform.logger,
      loadConfig(identitySpec, {}),
      neon.platform.publicUrl,
    );
    await commands.grantAdmin(STREAMER);

    const page = streamer.page;
    await page.reload();
    await page.getByRole('button', { name: 'Reveal' }).click();
    streamKey = ((await page.getByTestId('stream-key').textContent()) ?? '').trim();
    rtmpUrl = ((await page.getByTestId('rtmp-url').textContent()) ?? '')
      .trim()
      .replace('//localhost', '//127.0.0.1');

    // One broadcast that ends, so there is a past broadcast to watch…
    ffmpeg = publish(rtmpUrl, streamKey);
    await page.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Stream title').fill('Colour bars for everyone');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor();
    await new Promise((r) => setTimeout(r, 6000));
    await ffmpeg.stop('SIGINT');
    await page.goto(`/${STREAMER}`);
    const video = page.locator('[data-video] a').first();
    await video.waitFor({ timeout: 60_000 });
    videoPath = new URL((await video.getAttribute('href')) ?? '', neon.url).pathname;

    // …and one that is on now, with a message in its chat.
    ffmpeg = publish(rtmpUrl, streamKey);
    await page
      .getByRole('heading', { name: 'Colour bars for everyone' })
      .waitFor({ timeout: 60_000 });
    await chatReady(page);
    const input = page.getByLabel('Chat message', { exact: true });
    await input.fill('Welcome, everyone');
    await input.press('Enter');
    await page.locator('.msg', { hasText: 'Welcome, everyone' }).waitFor();

    // The admin pages need a second factor: the streamer sets up an authenticator app,
    // which also counts as the recent check the stream key's reveal asks for later.
    await page.goto('/settings/security');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').trim();
    await page.getByLabel('Authentication code').fill(await totpCode(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByTestId('recovery-left').waitFor();
  });

  after(async () => {
    if (ffmpeg && ffmpeg.child.exitCode === null) await ffmpeg.stop('SIGKILL');
    await browser?.close();
    await platform?.close();
  });

  // The developer pages, the consent screen, the API reference and Settings → Security (with
  // connected apps) are checked the same way in oauth-web.test.ts, where they have their data.
  it('axe finds no WCAG 2.0–2.2 A/AA violation on any page, no phone page is wider than the screen, and a normal visit logs nothing to the console', async () => {
    const signedOut: Target[] = [
      { path: '/' },
      { path: '/login' },
      { path: '/signup' },
      { path: `/${STREAMER}`, ready: chatReady },
      { path: `/${QUIET}`, ready: chatReady },
      { path: videoPath },
      { path: `/u/${STREAMER}` },
      { path: '/directory' },
      { path: `/search?q=${STREAMER.slice(0, 6)}` },
      // The pages a mailed link opens (a made-up token: nothing is asked of the server on load).
      { path: '/forgot-password' },
      { path: `/reset-password?token=${'A'.repeat(43)}` },
      { path: `/verify-email?token=${'A'.repeat(43)}` },
      // The not-found pages: their one failed request is the answer they show.
      { path: '/no/such/page', notFound: true },
      { path: `/nochannel${suffix}`, notFound: true },
      { path: `/videos/${UNKNOWN_VIDEO}`, notFound: true },
    ];
    const signedIn: Target[] = [
      { path: '/' },
      { path: `/${STREAMER}`, ready: chatReady },
      { path: `/${QUIET}`, ready: chatReady },
      { path: videoPath },
      { path: `/u/${STREAMER}` },
      {
        path: '/dashboard',
        ready: async (p) => {
          await p.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor();
          await p.getByRole('button', { name: 'Reveal' }).click();
        },
      },
      { path: '/admin', ready: async (p) => void (await p.locator('table').first().waitFor()) },
      // Without SMTP the sign-up's confirmation mail is listed here with its text.
      {
        path: '/admin?tab=mail',
        ready: async (p) => void (await p.getByTestId('mail').first().waitFor()),
      },
    ];

    const failures: string[] = [];
    let runs = 0;
    for (const viewport of [DESKTOP, PHONE]) {
      for (const colorScheme of ['dark', 'light'] as const) {
        for (const [who, session, targets] of [
          ['signed out', stranger, signedOut],
          ['signed in', streamer, signedIn],
        ] as const) {
          const page = session.page;
          await page.setViewportSize({ width: viewport.width, height: viewport.height });
          await page.emulateMedia({ colorScheme });
          for (const target of targets) {
            const where = `${target.path} (${viewport.name}, ${colorScheme}, ${who})`;
            const logged = session.errors.length;
            await page.goto(target.path);
            await settle(page, target.ready);
            const violations = await axe(page);
            runs += 1;
            // A normal visit leaves the console clean: no error, no failed request.
            if (!target.notFound)
              for (const e of session.errors.slice(logged))
                failures.push(`${where}: console: ${e}`);
            for (const v of violations) {
              failures.push(
                `${where}: ${v.id} [${v.impact}] ${v.help}\n    ${v.nodes.join('\n    ')}`,
              );
            }
            if (viewport === PHONE) {
              const wider = await overflow(page);
              if (wider > 0) failures.push(`${where}: ${wider} px wider than the screen`);
            }
            if (violations.length > 0 && colorScheme === 'dark') {
              await screenshot(page, `a11y-${viewport.name}-${target.path.replace(/\W+/g, '_')}`);
            }
          }
        }
      }
    }
    process.stdout.write(`# axe ran on ${runs} page views; ${failures.length} problems\n`);
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  it('on a phone, the live video stays in view while typing in chat, and its controls fit on one line', async () => {
    const { context, page } = await newPage(browser, neon.url, PHONE);
    try {
      await page.goto(`/${STREAMER}`);
      await chatReady(page);
      const player = page.getByTestId('player');
      await player.waitFor();
      await signUp(page, `a11yphone${suffix}`, PASSWORD, `/${STREAMER}`);
      await chatReady(page);
      const input = page.getByLabel('Chat message', { exact: true });
      await input.focus();
      await input.fill('typing on a phone');
      const inView = await page.evaluate<{
        playerTop: number;
        playerBottom: number;
        inputTop: number;
        inputBottom: number;
        height: number;
      }>(`(() => {
        const p = document.querySelector('[data-testid="player"]').getBoundingClientRect();
        const i = document.querySelector('#chat-input, [aria-label="Chat message"]').getBoundingClientRect();
        return { playerTop: p.top, playerBottom: p.bottom, inputTop: i.top, inputBottom: i.bottom, height: window.innerHeight };
      })()`);
      await screenshot(page, 'a11y-phone-channel-typing');
      assert.ok(
        inView.playerTop >= 0 && inView.playerBottom <= inView.height,
        `player in view: ${JSON.stringify(inView)}`,
      );
      assert.ok(
        inView.inputTop >= inView.playerBottom && inView.inputBottom <= inView.height,
        `chat input in view below it: ${JSON.stringify(inView)}`,
      );

      // One line: every visible control's middle within a few pixels of the others'.
      const row = await page.evaluate<{ spread: number; fits: boolean }>(`(() => {
        const row = document.querySelector('[data-testid="player"] .controls-row');
        const mids = [...row.children]
          .map((c) => c.getBoundingClientRect())
          .filter((r) => r.width > 0)
          .map((r) => r.top + r.height / 2);
        return { spread: Math.max(...mids) - Math.min(...mids), fits: row.scrollWidth <= row.clientWidth };
      })()`);
      assert.ok(row.spread < 8 && row.fits, `the controls sit on one line: ${JSON.stringify(row)}`);
    } finally {
      await context.close();
    }
  });

  it('on a desktop, the sections are links without a menu button, and the revealed stream key keeps Copy inside its panel', async () => {
    const page = streamer.page;
    await page.setViewportSize({ width: DESKTOP.width, height: DESKTOP.height });
    await page.goto('/dashboard');
    const main = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await main.getByRole('button', { name: 'Menu' }).isVisible(), false);
    assert.equal(await main.getByRole('link', { name: 'Categories' }).isVisible(), true);
    await page.getByRole('button', { name: 'Reveal' }).click();
    const copy = await page.getByRole('button', { name: 'Copy Stream key' }).boundingBox();
    const panel = await page.locator('section[aria-labelledby="key-title"]').boundingBox();
    assert.ok(copy && panel);
    assert.ok(
      copy.x + copy.width <= panel.x + panel.width,
      `Copy ends at ${copy.x + copy.width}, panel at ${panel.x + panel.width}`,
    );
  });

  it('by keyboard: the account menu, the stream key reveal and copy, and the regenerate dialog', async () => {
    const page = streamer.page;
    await streamer.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.setViewportSize({ width: DESKTOP.width, height: DESKTOP.height });
    await page.goto('/dashboard');
    await page.getByRole('heading', { name: 'Creator dashboard' }).waitFor();

    const account = page.getByRole('button', { name: /Account menu$/ });
    await account.focus();
    await page.keyboard.press('Enter');
    const focusedName = () => page.evaluate<string>('document.activeElement?.textContent ?? ""');
    assert.equal(await focusedName(), 'My channel', 'the menu opens on its first item');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedName(), 'Profile');
    await page.keyboard.press('End');
    assert.equal(await focusedName(), 'Log out');
    await page.keyboard.press('Escape');
    assert.equal(await page.getByRole('menu').count(), 0);
    assert.equal(await account.evaluate((el) => el === el.ownerDocument.activeElement), true);

    await page.getByRole('button', { name: 'Reveal' }).focus();
    await page.keyboard.press('Enter');
    assert.match((await page.getByTestId('stream-key').textContent()) ?? '', /\w{16,}/);
    await page.getByRole('button', { name: 'Copy Stream key' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Stream key copied' }).waitFor();

    const regenerate = page.getByRole('button', { name: 'Regenerate key…' });
    await regenerate.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    assert.equal(
      await dialog.evaluate((el) => el.contains(el.ownerDocument.activeElement)),
      true,
      'focus moves into the dialog',
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(
      await regenerate.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'Escape closes it and focus returns to the button that opened it',
    );
  });

  it('follows the system theme, and a chosen theme stays after a reload', async () => {
    const { context, page } = await newPage(browser, neon.url, DESKTOP, 'dark');
    try {
      const background = () =>
        page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
      await page.goto('/');
      await page.locator('main h1').first().waitFor();
      assert.equal(await background(), 'rgb(14, 14, 20)', 'dark, as the system asks');
      await page.getByRole('button', { name: 'Switch to the light theme' }).click();
      assert.equal(await background(), 'rgb(246, 246, 250)');
      await page.reload();
      await page.getByRole('button', { name: 'Switch to the dark theme' }).waitFor();
      assert.equal(await background(), 'rgb(246, 246, 250)', 'still light after a reload');
      assert.equal((await axe(page)).length, 0, 'the chosen light theme passes axe too');
    } finally {
      await context.close();
    }
  });
});
