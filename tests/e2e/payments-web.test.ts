import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { MySubscriptionList, TokenResponse } from '@neon/contracts';
import { adminCommands, identitySpec } from '@neon/identity';
import { loadConfig } from '@neon/kit';
import { enrolTotp, sleep } from '@neon/testing';
import type { Embedded } from '../../launcher/src/embedded.js';
import {
  axe,
  describeViolation,
  DESKTOP,
  overflow,
  PHONE,
  startWebPlatform,
  type WebPlatform,
} from './lib/web-platform.js';
import { launchBrowser, newPage, screenshot, signUp } from './lib/browser.js';

/*
 * Paid subscriptions as users meet them, in Chromium against the embedded
 * platform with the development payment provider (no money moves; it sends
 * itself signed Stripe events through the real webhook path). A streamer
 * makes the chat subscribers-only; a viewer subscribes at Tier 1 through the
 * channel page's dialog and comes back subscribed; their message goes through
 * with the subscriber badge, as the streamer sees it too, while a
 * non-subscriber is refused with the room's words. The dashboard counts the
 * subscriber and this month's share. The viewer cancels in Settings →
 * Subscriptions and stays subscribed until the period end the page shows;
 * then payments' test clock is moved past that end: the subscription ends,
 * chat refuses the viewer, and the month's payout is in the streamer's ledger.
 */

const suffix = String(process.pid % 100_000);
const STREAMER = `synthcaster${suffix}`;
const VIEWER = `subfan${suffix}`;
const OUTSIDER = `lurker${suffix}`;
const ADMIN = `payadmin${suffix}`;
const PASSWORD = 'violet-kettle-hums-42';
const SUBSCRIBERS_ONLY = /^This chat is for subscribers only\. Subscribe to .+ to chat\.$/;

type Session = { context: BrowserContext; page: Page; errors: string[] };

/** The page in both themes on a desktop and a phone: no axe violation, nothing wider than the phone. */
async function checkLayouts(page: Page, where: string, ready: () => Promise<void>): Promise<void> {
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    for (const colorScheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme });
      await ready();
      assert.deepEqual(
        (await axe(page)).map(describeViolation),
        [],
        `${where}, ${size.width} px, ${colorScheme}: axe`,
      );
      const wider = await overflow(page);
      assert.ok(wider <= 0, `${where}, ${size.width} px: ${wider} px wider than the screen`);
    }
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'dark' });
}

/**
 * Sends a chat message and says what became of it: 'sent', or the sentence
 * the room refused it with. A fresh body each time, so the box starts clean.
 */
async function say(page: Page, body: string): Promise<string> {
  const input = page.getByLabel('Chat message', { exact: true });
  await input.fill(body);
  await input.press('Enter');
  const sent = page.locator('.msg', { hasText: body });
  const refused = page.locator('#chat-error');
  await sent.or(refused).first().waitFor({ timeout: 10_000 });
  return (await sent.count()) > 0 ? 'sent' : ((await refused.textContent()) ?? '').trim();
}

/** Says messages until one goes through (chat hears of a subscription from the bus), or fails. */
async function sayUntilSent(page: Page, what: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 20; i++) {
    const body = `${what} ${i} ${Date.now()}`;
    last = await say(page, body);
    if (last === 'sent') return body;
    await sleep(500);
  }
  throw new Error(`no message went through; the last refusal: ${last}`);
}

describe('paid subscriptions in the web app', { timeout: 180_000 }, () => {
  let platform: WebPlatform | undefined;
  let neon: Embedded;
  let browser: Browser;
  let streamer: Session;
  let viewer: Session;
  let outsider: Session;
  /** The viewer's period end as the API reports it, and as the browser writes it. */
  let periodEnd = '';
  let periodEndShown = '';

  const api = async <T>(path: string, token: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${neon.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as T;
  };
  const login = async (username: string): Promise<string> => {
    const res = await fetch(`${neon.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: username, password: PASSWORD }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as TokenResponse).accessToken;
  };

  before(async () => {
    platform = await startWebPlatform('neon-payments-web-e2e-', {
      // Three browser sessions and a few API log-ins share 127.0.0.1.
      GATEWAY_AUTH_RATE_LIMIT: '120',
      // Checkout without a provider account: signed Stripe events, no money.
      PAYMENTS_DEV_PROVIDER: 'true',
    });
    neon = platform.neon;
    browser = await launchBrowser();
    streamer = await newPage(browser, neon.url);
    viewer = await newPage(browser, neon.url);
    outsider = await newPage(browser, neon.url);
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('1. the streamer starts with no subscribers and makes the chat subscribers-only', async () => {
    await signUp(streamer.page, STREAMER, PASSWORD, '/dashboard');
    const page = streamer.page;
    const panel = page.getByRole('region', { name: 'Subscribers and revenue' });
    await panel.getByTestId('no-subscribers').waitFor();
    await panel.getByTestId('no-payouts').waitFor();
    assert.equal(await panel.getByTestId('revenue-this-month').textContent(), '$0.00');

    // The chat works offline: the channel has never been live.
    await page.goto(`/${STREAMER}`);
    await page.getByText('Connected').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Chat settings' }).click();
    await page
      .getByRole('group', { name: 'Chat modes' })
      .getByRole('checkbox', { name: 'Subscribers-only chat' })
      .check();
    await page
      .getByRole('status', { name: 'Chat modes' })
      .filter({ hasText: /^Subscribers-only chat$/ })
      .waitFor();
    await page.keyboard.press('Escape');
    // Not on one's own channel.
    await page.getByTestId('follower-count').waitFor();
    assert.equal(await page.getByRole('button', { name: /^Subscribe/ }).count(), 0);
  });

  it('2. a viewer subscribes at Tier 1 through the dialog and the test checkout, and comes back subscribed', async () => {
    await signUp(viewer.page, VIEWER, PASSWORD, `/${STREAMER}`);
    const page = viewer.page;
    await page.getByRole('button', { name: `Subscribe to ${STREAMER}` }).click();
    const dialog = page.getByRole('dialog', { name: `Subscribe to ${STREAMER}` });
    await dialog.waitFor();
    assert.deepEqual(
      await dialog
        .getByRole('radio')
        .evaluateAll((els) => els.map((e) => e.closest('label')?.textContent)),
      ['Tier 1$4.99 / month', 'Tier 2$9.99 / month', 'Tier 3$24.99 / month'],
    );
    assert.match(
      (await dialog.getByTestId('test-checkout').textContent()) ?? '',
      /^Test checkout\..*no money moves/,
    );
    await checkLayouts(page, 'the subscribe dialog', () => dialog.waitFor());
    await screenshot(page, 'payments-subscribe-dialog');

    const visited: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url());
    });
    await dialog.getByRole('radio', { name: /^Tier 1/ }).check();
    await dialog.getByRole('button', { name: 'Start test subscription' }).click();
    const state = page.getByTestId('subscription-state');
    await state.filter({ hasText: 'Subscribed · Tier 1' }).waitFor({ timeout: 20_000 });
    // The development provider sent the browser straight back to the channel's success page,
    // whose marker the page took out of the address once the subscription was in.
    assert.ok(
      visited.includes(`${neon.url}/${STREAMER}?subscribed=1`),
      `went to the success page: ${visited.join(', ')}`,
    );
    await page.waitForURL((url) => url.pathname === `/${STREAMER}` && url.search === '');

    const token = await login(VIEWER);
    const mine = await api<MySubscriptionList>('/api/v1/me/subscriptions', token);
    assert.equal(mine.items.length, 1);
    const sub = mine.items[0]!;
    assert.deepEqual(
      [sub.channel, sub.tier, sub.status, sub.price, sub.months],
      [STREAMER, 'tier1', 'active', 499, 1],
    );
    periodEnd = sub.currentPeriodEnd ?? '';
    periodEndShown = await page.evaluate(
      (iso) => new Intl.DateTimeFormat('en', { dateStyle: 'medium' }).format(new Date(iso)),
      periodEnd,
    );
    await page
      .getByTestId('subscription-period')
      .filter({ hasText: `1 month · Renews on ${periodEndShown}` })
      .waitFor();
    await checkLayouts(page, 'the channel page of a subscriber', () => state.waitFor());
    await screenshot(page, 'payments-subscribed');
  });

  it('3. in the subscribers-only room the subscriber’s message goes through with the badge; a non-subscriber is refused', async () => {
    const page = viewer.page;
    await page.getByText('Connected').waitFor({ timeout: 15_000 });
    const body = await sayUntilSent(page, 'first message as a subscriber');
    await page.locator('.msg', { hasText: body }).locator('.chip.subscriber').waitFor();
    // The streamer's page sees the message arrive with the badge.
    await streamer.page
      .locator('.msg', { hasText: body })
      .locator('.chip.subscriber', { hasText: 'Subscriber' })
      .waitFor({ timeout: 10_000 });
    assert.equal(
      await streamer.page
        .locator('.msg', { hasText: body })
        .locator('.chip.subscriber')
        .getAttribute('title'),
      'Subscriber for 1 month',
    );

    await signUp(outsider.page, OUTSIDER, PASSWORD, `/${STREAMER}`);
    await outsider.page.getByText('Connected').waitFor({ timeout: 15_000 });
    const refusal = await say(outsider.page, `can I chat ${Date.now()}`);
    assert.match(refusal, SUBSCRIBERS_ONLY);
    assert.ok(refusal.includes(STREAMER), refusal);
    // The refused message stays in the box, and never reached the room.
    assert.match(
      await outsider.page.getByLabel('Chat message', { exact: true }).inputValue(),
      /^can I chat/,
    );
    assert.equal(await streamer.page.locator('.msg', { hasText: 'can I chat' }).count(), 0);
    // The outsider is offered the way in.
    await outsider.page.getByRole('button', { name: `Subscribe to ${STREAMER}` }).waitFor();
  });

  it('4. the streamer’s dashboard shows one subscriber at Tier 1 and this month’s share', async () => {
    const page = streamer.page;
    await page.goto('/dashboard');
    const panel = page.getByRole('region', { name: 'Subscribers and revenue' });
    const subscribers = panel.getByTestId('subscribers');
    await subscribers.waitFor();
    const figures = await subscribers
      .locator('div')
      .evaluateAll((els) =>
        els.map(
          (e) => `${e.querySelector('dt')?.textContent}=${e.querySelector('dd')?.textContent}`,
        ),
      );
    assert.deepEqual(figures, ['Tier 1=1', 'Tier 2=0', 'Tier 3=0', 'Total=1']);
    // $4.99 with the platform's default 50 % share: the platform rounds down, the streamer gets the odd cent.
    assert.equal(await panel.getByTestId('revenue-this-month').textContent(), '$2.50');
    assert.equal(await panel.getByTestId('revenue-balance').textContent(), '$2.50');
    await panel.getByText(/in USD\.$/).waitFor();
    await panel.getByTestId('no-payouts').waitFor();
    await panel.scrollIntoViewIfNeeded();
    await checkLayouts(page, 'the dashboard', () => subscribers.waitFor());
    await screenshot(page, 'payments-dashboard');
  });

  it('5. the viewer cancels in Settings → Subscriptions and stays subscribed until the period end', async () => {
    const page = viewer.page;
    await page.getByRole('button', { name: /account menu$/i }).click();
    await page.getByRole('menuitem', { name: 'Subscriptions' }).click();
    await page.waitForURL((url) => url.pathname === '/settings/subscriptions');
    const item = page.getByTestId(`subscription-${STREAMER}`);
    await item.waitFor();
    await item.getByText('Active', { exact: true }).waitFor();
    await item.getByText('$4.99 / month').waitFor();
    await item.getByText(`Renews on ${periodEndShown}`).waitFor();
    await checkLayouts(page, 'Settings → Subscriptions', () => item.waitFor());

    await item.getByRole('button', { name: `Cancel subscription to ${STREAMER}…` }).click();
    const confirm = page.getByRole('alertdialog');
    assert.match((await confirm.textContent()) ?? '', new RegExp(`until ${periodEndShown}`));
    await confirm.getByRole('button', { name: 'Cancel subscription' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `It stays active until ${periodEndShown}.` })
      .waitFor();
    await item.getByText(`Ends on ${periodEndShown}`).waitFor();
    await item.getByText('Active until it ends, not renewing').waitFor();
    await screenshot(page, 'payments-settings-canceled');

    // The server has it too (its webhook processed): canceled, ending at the same period end.
    const token = await login(VIEWER);
    let sub = (await api<MySubscriptionList>('/api/v1/me/subscriptions', token)).items[0]!;
    for (let i = 0; i < 40 && sub.status !== 'canceled'; i++) {
      await sleep(250);
      sub = (await api<MySubscriptionList>('/api/v1/me/subscriptions', token)).items[0]!;
    }
    assert.deepEqual(
      [sub.status, sub.cancelAtPeriodEnd, sub.currentPeriodEnd],
      ['canceled', true, periodEnd],
    );

    // Still a subscriber: the channel page says until when, and chat still takes the message.
    await page.goto(`/${STREAMER}`);
    await page
      .getByTestId('subscription-state')
      .filter({ hasText: 'Subscribed · Tier 1' })
      .waitFor();
    await page
      .getByTestId('subscription-period')
      .filter({ hasText: `1 month · Ends on ${periodEndShown}` })
      .waitFor();
    await page.getByText('Connected').waitFor({ timeout: 15_000 });
    const body = await sayUntilSent(page, 'still here after canceling');
    await page.locator('.msg', { hasText: body }).locator('.chip.subscriber').waitFor();
  });

  it('6. past the period end (payments’ test clock), the subscription has ended and the month is paid out', async () => {
    // The development provider's clock hook is an admin route, which needs a second factor.
    const commands = await adminCommands(
      neon.platform.db,
      neon.platform.logger,
      loadConfig(identitySpec, {}),
      neon.platform.publicUrl,
    );
    await commands.createAdmin({
      username: ADMIN,
      email: `${ADMIN}@example.test`,
      password: PASSWORD,
    });
    const { accessToken: admin } = await enrolTotp(neon.url, await login(ADMIN));
    const toEnd = Math.ceil((Date.parse(periodEnd) - Date.now()) / 1000) + 3600;
    const { now } = await api<{ now: string }>('/admin/v1/payments/dev/clock', admin, {
      advanceSeconds: toEnd,
    });
    assert.ok(Date.parse(now) > Date.parse(periodEnd));

    const page = viewer.page;
    await page.goto('/settings/subscriptions');
    const item = page.getByTestId(`subscription-${STREAMER}`);
    await item.locator('.status-pill', { hasText: 'Ended' }).waitFor();
    assert.equal(await item.getByRole('button').count(), 0, 'nothing left to cancel');

    await page.goto(`/${STREAMER}`);
    await page.getByRole('button', { name: `Subscribe to ${STREAMER}` }).waitFor();
    assert.equal(await page.getByTestId('subscription-state').count(), 0);
    await page.getByText('Connected').waitFor({ timeout: 15_000 });
    // Chat hears of the expiry from the bus.
    let refusal = '';
    for (let i = 0; i < 20 && !SUBSCRIBERS_ONLY.test(refusal); i++) {
      refusal = await say(page, `after the end ${i} ${Date.now()}`);
      if (!SUBSCRIBERS_ONLY.test(refusal)) await sleep(500);
    }
    assert.match(refusal, SUBSCRIBERS_ONLY);

    // The month the subscription was paid in is over on payments' clock: its payout run pays it.
    const run = await api<{ paid: number; total: number }>(
      '/admin/v1/payments/payouts/run',
      admin,
      {},
    );
    assert.deepEqual(run, { paid: 1, total: 250 });
    const paidMonth = new Date(
      Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 0),
    );
    const monthName = new Intl.DateTimeFormat('en', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    }).format(paidMonth);
    await streamer.page.goto('/dashboard');
    const panel = streamer.page.getByRole('region', { name: 'Subscribers and revenue' });
    await panel.getByTestId('no-subscribers').waitFor();
    const row = panel.getByRole('table', { name: 'Payouts' }).getByRole('row').nth(1);
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    assert.deepEqual(cells.slice(0, 2), [monthName, '$2.50']);
    assert.equal(await panel.getByTestId('revenue-balance').textContent(), '$0.00');
    await panel.getByRole('heading', { name: 'Payouts' }).scrollIntoViewIfNeeded();
    await screenshot(streamer.page, 'payments-dashboard-payout');

    for (const [who, errors] of [
      ['streamer', streamer.errors],
      ['viewer', viewer.errors],
      ['outsider', outsider.errors],
    ] as const) {
      const csp = errors.filter((e) => /Content Security Policy/i.test(e));
      assert.deepEqual(csp, [], `no CSP violations in the ${who}'s pages`);
      const crashes = errors.filter((e) => !/status of \d\d\d|Content Security Policy/i.test(e));
      assert.deepEqual(crashes, [], `no page errors in the ${who}'s pages`);
    }
  });
});
