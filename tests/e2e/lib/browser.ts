import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium: the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots and other artefacts of the end-to-end tests go. */
export const OUTPUT_DIR = join('test-results', 'e2e');

/**
 * Every MediaSource a page makes, and whether and when it opened: a player
 * that never starts either never got an open MediaSource (the browser's media
 * stack) or got one and never fed it (the player). Test instrumentation only.
 */
const MEDIA_SOURCE_PROBE = `(() => {
  const Original = window.MediaSource;
  if (!Original) return;
  const made = [];
  window.__mediaSources = made;
  window.MediaSource = class extends Original {
    constructor() {
      super();
      const record = { source: this, made: Math.round(performance.now()), opened: null };
      made.push(record);
      this.addEventListener('sourceopen', () => { record.opened = Math.round(performance.now()); });
    }
  };
})();`;

/** What the browser process wrote (Chromium's own log, to stderr), newest last. */
const browserLog: string[] = [];

/** Chromium's lines about media, the GPU process or crashes, for a failure report. */
export function browserMediaLog(): string[] {
  return browserLog.filter((l) => /media|gpu|crash|decoder|renderer|mojo/i.test(l)).slice(-40);
}

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Headless Chromium with a fresh, throw-away profile (playwright creates a
 * temporary user-data dir per launch and removes it on close). Each
 * `newContext()` is an isolated session: its own cookies and storage.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, '--enable-logging=stderr', '--v=0'],
    logger: {
      isEnabled: (name) => name === 'browser',
      log: (_name, _severity, message) => {
        browserLog.push(String(message));
        if (browserLog.length > 2000) browserLog.shift();
      },
    },
  });
}

/** A browser page with what it logged: errors, and the media it asked for and got. */
export interface Tab {
  context: BrowserContext;
  page: Page;
  errors: string[];
  media: string[];
  mediaSinceLoad: string[];
}

export async function newPage(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1366, height: 800 },
  colorScheme: 'dark' | 'light' = 'dark',
): Promise<Tab> {
  const context = await browser.newContext({ baseURL, viewport, colorScheme });
  await context.addInitScript(MEDIA_SOURCE_PROBE);
  const page = await context.newPage();
  // The last playlist and segment answers, so a player that never starts can say what it got.
  const media: string[] = [];
  // And how the current page's player began: its first requests, from the page's load on.
  const mediaSinceLoad: string[] = [];
  const started = Date.now();
  const note = (line: string) => {
    media.push(line);
    if (media.length > 60) media.shift();
    if (mediaSinceLoad.length < 400) mediaSinceLoad.push(line);
  };
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) mediaSinceLoad.length = 0;
  });
  // Requests too: one that never answers shows as sent with nothing after it.
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!/\.(m3u8|mpd|m4s|mp4)$/.test(url.pathname)) return;
    note(`${Date.now() - started} ms sent ${url.pathname}${url.search}`);
  });
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (!/\.(m3u8|mpd|m4s|mp4)$/.test(url.pathname)) return;
    note(`${Date.now() - started} ms ${res.status()} ${url.pathname}${url.search}`);
  });
  page.on('requestfailed', (req) => {
    note(`${Date.now() - started} ms failed ${req.failure()?.errorText} ${req.url()}`);
  });
  // Uncaught exceptions and CSP violations land here, so a test can show them.
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    // A failed load logs only its status: the address is in the message's location.
    if (msg.type() === 'error')
      errors.push(`${msg.text()}${msg.location().url ? ` (${msg.location().url})` : ''}`);
  });
  return { context, page, errors, media, mediaSinceLoad };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const path = join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Signs a new user up through the form and waits for the page it sends them to. */
export async function signUp(
  page: Page,
  username: string,
  password: string,
  next: string,
): Promise<void> {
  await page.goto(`/signup?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email').fill(`${username}@example.test`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((url) => url.pathname === next, { timeout: 20_000 });
}
