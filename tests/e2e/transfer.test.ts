import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { sleep, syntheticSourceArgs, waitFor } from '@neon/testing';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { launchBrowser, newPage, signUp } from './lib/browser.js';
import { run, type Spawned } from './lib/process.js';

/*
 * What a visit costs a viewer in bytes, measured by Chromium itself: the home
 * page's JavaScript on the wire (compressed) against its size once decoded,
 * a second visit that takes the hashed assets from the cache without asking,
 * and a phone whose player downloads no rung taller than its screen can show.
 */

/**
 * The most the home page's JavaScript may weigh on the wire. The first-load
 * bundle is about 120 KiB with brotli; the budget leaves room to grow and fails
 * when compression is lost (uncompressed it is over 400 KiB) or the bundle
 * doubles.
 */
const HOME_JS_BUDGET = 200 * 1024;

/** A resource as Chromium's resource timing reports it (same origin: every size is exposed). */
interface Fetched {
  name: string;
  initiatorType: string;
  transferSize: number;
  encodedBodySize: number;
  decodedBodySize: number;
}

const scripts = (page: Page) =>
  page.evaluate<Fetched[]>(`performance.getEntriesByType('resource')
    .filter((e) => new URL(e.name).pathname.endsWith('.js'))
    .map((e) => ({ name: new URL(e.name).pathname, initiatorType: e.initiatorType,
      transferSize: e.transferSize, encodedBodySize: e.encodedBodySize, decodedBodySize: e.decodedBodySize }))`);

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const sum = (list: Fetched[], key: keyof Omit<Fetched, 'name' | 'initiatorType'>) =>
  list.reduce((total, e) => total + e[key], 0);

describe('what a visit costs in bytes (Chromium)', { timeout: 240_000 }, () => {
  let platform: WebPlatform | undefined;
  let browser: Browser;
  let publisher: Spawned | undefined;

  before(async () => {
    platform = await startWebPlatform('neon-transfer-e2e-', { GATEWAY_AUTH_RATE_LIMIT: '60' });
    browser = await launchBrowser();
  });

  after(async () => {
    if (publisher && publisher.child.exitCode === null) await publisher.stop('SIGKILL');
    await browser?.close();
    await platform?.close();
  });

  it('the home page’s JavaScript arrives compressed, within budget, and a second visit takes it from the cache', async () => {
    const { page, context } = await newPage(browser, platform!.neon.url);
    const encodings = new Map<string, string>();
    page.on('response', (res) => {
      const path = new URL(res.url()).pathname;
      if (path.endsWith('.js')) encodings.set(path, res.headers()['content-encoding'] ?? 'none');
    });
    await page.goto('/');
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.waitForLoadState('networkidle');

    const first = await scripts(page);
    assert.ok(first.length > 0, 'the page loads JavaScript');
    for (const s of first)
      assert.equal(encodings.get(s.name), 'br', `${s.name} is sent with brotli`);
    const wire = sum(first, 'encodedBodySize');
    const decoded = sum(first, 'decodedBodySize');
    process.stdout.write(
      `# home page JavaScript: ${first.length} files, ${kib(decoded)} uncompressed, ${kib(wire)} on the wire (brotli, ${((wire / decoded) * 100).toFixed(0)}%)\n`,
    );
    assert.ok(wire < decoded / 3, `${kib(wire)} on the wire for ${kib(decoded)} of JavaScript`);
    assert.ok(wire <= HOME_JS_BUDGET, `${kib(wire)} is over the budget of ${kib(HOME_JS_BUDGET)}`);

    // A second visit in the same tab: hashed assets (`/assets/<name>-<hash>.js`) are
    // immutable, so none is asked for again; the unhashed theme script is revalidated.
    await page.goto('about:blank');
    await page.goto('/');
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.waitForLoadState('networkidle');
    const again = (await scripts(page)).filter((s) => s.name.startsWith('/assets/'));
    assert.ok(again.length > 0, 'the second visit runs the hashed bundle');
    const overNetwork = again.filter((s) => s.transferSize > 0).map((s) => s.name);
    assert.deepEqual(overNetwork, [], 'no hashed script crosses the network on the second visit');
    process.stdout.write(
      `# second visit: ${again.length} hashed scripts, all from the cache (0 bytes over the network)\n`,
    );
    await context.close();
  });

  it('a phone’s live player downloads no rung taller than its screen shows', async () => {
    const neon = platform!.neon;
    const streamer = await newPage(browser, neon.url);
    await signUp(streamer.page, 'phone_rungs', 'violet-kettle-hums-42', '/dashboard');
    await streamer.page.getByRole('button', { name: 'Reveal' }).click();
    const key = ((await streamer.page.getByTestId('stream-key').textContent()) ?? '').trim();
    const rtmp = ((await streamer.page.getByTestId('rtmp-url').textContent()) ?? '').trim();
    await streamer.context.close();
    // 720p at 15 fps: the whole ladder (720p, 480p, 360p, 160p) at half the encoding cost.
    publisher = run(
      'ffmpeg',
      syntheticSourceArgs(`${rtmp.replace('//localhost', '//127.0.0.1')}/${key}`, {
        width: 1280,
        height: 720,
        fps: 15,
        videoKbps: 2000,
      }),
      {},
    );
    await waitFor(
      async () => (await fetch(`${neon.url}/hls/phone_rungs/720p/index.m3u8`)).status === 200,
      { timeoutMs: 40_000, intervalMs: 250, what: 'the 720p rung to be produced' },
    );

    // An iPhone-sized screen: 390×844 CSS pixels at three device pixels each.
    const context = await browser.newContext({
      baseURL: neon.url,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    const fragments: string[] = [];
    page.on('request', (req) => {
      const m = /\/hls\/phone_rungs\/([^/]+)\/[^/]+\.m4s/.exec(new URL(req.url()).pathname);
      if (m) fragments.push(m[1]!);
    });
    await page.goto('/phone_rungs');
    const video = page.locator('[data-testid="player"] video');
    const answers: string[] = [];
    page.on('response', (res) => answers.push(`${res.status()} ${new URL(res.url()).pathname}`));
    try {
      await waitFor(
        async () =>
          video.evaluate((el) => (el as unknown as { currentTime: number }).currentTime > 2),
        { timeoutMs: 60_000, what: 'the phone player to play' },
      );
    } catch (err) {
      const shown = await page
        .getByTestId('player')
        .innerText()
        .catch(() => '');
      throw new Error(`${String(err)}\nplayer: ${shown}\n${answers.slice(-30).join('\n')}`);
    }
    // A small player starts on the lowest rung; loopback is fast, so the bandwidth estimate
    // climbs at once, and only the cap to the player's size keeps it from the top rung.
    await waitFor(async () => fragments.some((r) => r !== '160p' && r !== 'audio'), {
      timeoutMs: 30_000,
      what: `the player to move up from 160p (fetched: ${[...new Set(fragments)].join(', ')})`,
    });
    await sleep(8000);
    const box = await video.evaluate((el) => {
      const v = el as unknown as { clientWidth: number; clientHeight: number };
      return { width: v.clientWidth, height: v.clientHeight };
    });
    const deviceHeight = box.height * 3;
    const heights: Record<string, number> = { '720p': 720, '480p': 480, '360p': 360, '160p': 160 };
    const rungs = [...new Set(fragments)].filter((r) => r !== 'audio');
    process.stdout.write(
      `# phone player ${box.width}×${box.height} CSS px (${box.width * 3}×${deviceHeight} device px) downloaded rungs: ${rungs.join(', ')} (${fragments.length} fragments)\n`,
    );
    assert.ok(rungs.length > 0, 'video fragments were downloaded');
    for (const rung of rungs) {
      assert.notEqual(rung, 'source', 'the source rendition is at the publisher’s size');
      assert.ok(
        (heights[rung] ?? Infinity) <= deviceHeight,
        `${rung} is taller than the player's ${deviceHeight} device pixels`,
      );
    }
    await context.close();
    await publisher.stop('SIGINT');
  });
});
