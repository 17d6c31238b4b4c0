import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page, Route } from 'playwright-core';
import { adminCommands, identitySpec } from '@neon/identity';
import { loadConfig } from '@neon/kit';
import { sleep, syntheticSourceArgs, waitFor } from '@neon/testing';
import type { Embedded } from '../../launcher/src/embedded.js';
import { startWebPlatform, type WebPlatform } from './lib/web-platform.js';
import { browserMediaLog, launchBrowser, newPage, screenshot, type Tab } from './lib/browser.js';
import { run, type Spawned } from './lib/process.js';

/*
 * The product as a user meets it: a streamer signs up and goes live with
 * ffmpeg, a viewer in another browser session watches and chats, the
 * streamer moderates and edits their profile, then ends the broadcast and it
 * plays back as a past broadcast. Real gateway, services, ffmpeg, Chromium.
 */

const STREAMER = `streamer${process.pid % 100_000}`;
const VIEWER = `viewer${process.pid % 100_000}`;
const PASSWORD = 'violet-kettle-hums-42';

/** A synthetic 640x360 30 fps H.264/AAC source, keyframe every second, paced in real time. */
function publish(rtmpUrl: string, key: string): Spawned {
  return run(
    'ffmpeg',
    syntheticSourceArgs(`${rtmpUrl}/${key}`, {
      width: 640,
      height: 360,
      preset: 'veryfast',
      videoKbps: 1200,
      audioKbps: 96,
      logLevel: 'warning',
    }),
    {},
  );
}

async function signUp(page: Page, username: string, next: string): Promise<void> {
  await page.goto(`/signup?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email').fill(`${username}@example.test`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((url) => url.pathname === next, { timeout: 20_000 });
}

/** What the test reads from the page's <video> (the DOM types are not in this project's lib). */
interface MediaState {
  currentTime: number;
  error: { code: number } | null;
  paused: boolean;
}

/** The video's currentTime, and whether the element reports an error. */
async function videoState(
  page: Page,
): Promise<{ t: number; error: number | null; paused: boolean }> {
  return page.locator('[data-testid="player"] video').evaluate((el) => {
    const v = el as unknown as MediaState;
    return {
      t: v.currentTime,
      error: v.error?.code ?? null,
      paused: v.paused,
    };
  });
}

/** What a player that has not started shows and holds: said when a test gives up on it. */
async function playerReport(tab: Tab) {
  const element = await tab.page
    .locator('[data-testid="player"] video')
    .evaluate((el) => {
      const v = el as unknown as MediaState & {
        readyState: number;
        networkState: number;
        currentSrc: string;
        buffered: { length: number; start(i: number): number; end(i: number): number };
        muted: boolean;
      };
      const ranges: string[] = [];
      for (let i = 0; i < v.buffered.length; i += 1)
        ranges.push(`${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`);
      return JSON.stringify({
        t: v.currentTime,
        paused: v.paused,
        muted: v.muted,
        readyState: v.readyState,
        networkState: v.networkState,
        // A blob: address means hls.js attached a MediaSource; empty means it never did.
        src: v.currentSrc.slice(0, 5),
        error: v.error?.code ?? null,
        buffered: ranges,
      });
    })
    .catch((err: unknown) => `no video element: ${String(err)}`);
  const player = tab.page.getByTestId('player');
  const text = await player.innerText().catch(() => '');
  const attempt = await player.getAttribute('data-attempt').catch(() => null);
  // A hidden page may have its media loads deferred by the browser, whatever the player does.
  const pageState = await tab.page
    .evaluate<string>(
      `JSON.stringify({ visibility: document.visibilityState, focus: document.hasFocus(), videos: document.querySelectorAll('video').length })`,
    )
    .catch((err: unknown) => `page state not read: ${String(err)}`);
  // The playlists as the page would read them now (the last ones it asked for, unblocked).
  const polled = [
    ...new Set(
      tab.media
        .map((line) => /\/hls\/[^?\s]+\.m3u8/.exec(line)?.[0])
        .filter((path): path is string => path !== undefined),
    ),
  ];
  const playlists = await tab.page
    .evaluate(
      async (paths) =>
        Promise.all(
          paths.map(async (path) => {
            const res = await fetch(path);
            const body = await res.text();
            const cut =
              body.length > 3000 ? `${body.slice(0, 1200)}\n…\n${body.slice(-1800)}` : body;
            return `${path} ${res.status}\n${cut}`;
          }),
        ),
      polled.slice(0, 4),
    )
    .catch((err: unknown) => [`playlists not read: ${String(err)}`]);
  const mediaSources = await tab.page
    .evaluate<string>(
      `JSON.stringify((window.__mediaSources || []).slice(-8).map((r) => ({ made: r.made, opened: r.opened, state: r.source.readyState, buffers: r.source.sourceBuffers.length, buffered: Array.from(r.source.sourceBuffers).map((b) => b.buffered.length ? b.buffered.end(b.buffered.length - 1).toFixed(2) : 'none') })))`,
    )
    .catch((err: unknown) => `media sources not read: ${String(err)}`);
  // Which browser processes are alive (a GPU or media process that died takes players with it).
  const processes = await Promise.resolve(tab.context.browser())
    .then(async (browser) => {
      if (!browser) return 'no browser';
      const cdp = await browser.newBrowserCDPSession();
      const info = await cdp.send('SystemInfo.getProcessInfo');
      await cdp.detach();
      return JSON.stringify(
        info.processInfo.map((p) => `${p.type}:${p.id}:${Math.round(p.cpuTime)}s`),
      );
    })
    .catch((err: unknown) => `processes not read: ${String(err)}`);
  return [
    `url ${tab.page.url()}`,
    `video ${element}`,
    `media sources (last 8; made/opened in ms since the page loaded) ${mediaSources}`,
    `browser processes ${processes}`,
    'browser log about media, GPU, crashes (last 40):',
    ...browserMediaLog(),
    `player text ${JSON.stringify(text)}, starts so far ${attempt ?? '?'}`,
    `page ${pageState}`,
    `page errors ${JSON.stringify(tab.errors.slice(-10))}`,
    'media since the page loaded (first 80):',
    ...tab.mediaSinceLoad.slice(0, 80),
    'media answers (last 60):',
    ...tab.media,
    'playlists now:',
    ...playlists,
  ].join('\n');
}

/**
 * Waits for playback to start, then for the picture to play `seconds` of video; returns how
 * long that took. A rebuffer on a loaded machine is allowed for (twice the time and 15 s
 * more), a frozen or failed player is not.
 */
async function assertPlays(tab: Tab, seconds: number): Promise<number> {
  const { page } = tab;
  try {
    await waitFor(async () => (await videoState(page)).t > 0, {
      timeoutMs: 30_000,
      what: 'playback to start',
    });
  } catch (err) {
    throw new Error(`${String(err)}\n${await playerReport(tab)}`, { cause: err });
  }
  const start = await videoState(page);
  const since = Date.now();
  let end = start;
  try {
    await waitFor(
      async () => {
        end = await videoState(page);
        return end.t - start.t >= seconds || end.error !== null;
      },
      { timeoutMs: seconds * 2000 + 15_000, intervalMs: 250, what: `${seconds} s of picture` },
    );
  } catch (err) {
    throw new Error(
      `${String(err)}: currentTime advanced ${(end.t - start.t).toFixed(2)} s\n${await playerReport(tab)}`,
      { cause: err },
    );
  }
  assert.equal(end.error, null, 'the video element reports no error');
  assert.equal(end.paused, false, 'still playing');
  return Date.now() - since;
}

describe(
  'web app end to end: go live, watch, chat, edit profile, play back',
  { timeout: 300_000 },
  () => {
    let platform: WebPlatform | undefined;
    let neon: Embedded;
    let browser: Browser;
    let streamer: Tab;
    let viewer: Tab;
    let ffmpeg: Spawned | undefined;
    let streamKey = '';
    let rtmpUrl = '';

    before(async () => {
      platform = await startWebPlatform('neon-web-e2e-', {
        RECONNECT_GRACE_SECONDS: '2',
        // Both browser sessions share 127.0.0.1, and each page load refreshes the session once.
        GATEWAY_AUTH_RATE_LIMIT: '60',
      });
      neon = platform.neon;
      browser = await launchBrowser();
      streamer = await newPage(browser, neon.url);
      viewer = await newPage(browser, neon.url);
    });

    after(async () => {
      if (ffmpeg && ffmpeg.child.exitCode === null) await ffmpeg.stop('SIGKILL');
      await browser?.close();
      await platform?.close();
    });

    it('1. a streamer signs up and reads the stream key from the dashboard', async () => {
      await signUp(streamer.page, STREAMER, '/dashboard');
      const page = streamer.page;
      await page.getByRole('heading', { name: 'Creator dashboard' }).waitFor();
      const key = page.getByTestId('stream-key');
      await key.waitFor();
      assert.doesNotMatch(
        (await key.textContent()) ?? '',
        /[a-z0-9]{8}/i,
        'the key is hidden until revealed',
      );
      await page.getByRole('button', { name: 'Reveal' }).click();
      streamKey = ((await key.textContent()) ?? '').trim();
      rtmpUrl = ((await page.getByTestId('rtmp-url').textContent()) ?? '').trim();
      assert.ok(streamKey.length >= 16, 'a stream key is shown');
      assert.match(rtmpUrl, /^rtmp:\/\/[^/]+(:\d+)?\/live$/);
    });

    it('2. ffmpeg publishes with that key and the dashboard shows the ingest', async () => {
      ffmpeg = publish(rtmpUrl.replace('//localhost', '//127.0.0.1'), streamKey);
      const page = streamer.page;
      await page
        .getByTestId('live-status')
        .filter({ hasText: 'LIVE' })
        .waitFor({ timeout: 30_000 });
      await page.getByText('640×360').waitFor({ timeout: 15_000 });
      await page.getByLabel('Stream title').fill('Synthetic test pattern');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor();
    });

    it('3. a viewer sees the channel live on the home page and the video plays with a latency readout', async () => {
      const page = viewer.page;
      await page.goto('/');
      const card = page.locator(`a[data-channel="${STREAMER}"]`);
      // The directory refreshes itself: no reload.
      await card.waitFor({ timeout: 30_000 });
      await card.getByText('Synthetic test pattern').waitFor();
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await screenshot(page, 'home');

      await card.click();
      await page.waitForURL(`**/${STREAMER}`);
      const tookMs = await assertPlays(viewer, 5);
      await waitFor(
        async () =>
          /^\d+(\.\d+)? s$/.test(((await page.getByTestId('latency').textContent()) ?? '').trim()),
        {
          timeoutMs: 10_000,
          what: 'a latency number',
        },
      );
      const latency = (await page.getByTestId('latency').textContent()) ?? '';
      process.stdout.write(`# 5 s of picture played in ${tookMs} ms; latency readout ${latency}\n`);
      await page.getByRole('button', { name: /^Quality/ }).click();
      assert.ok(
        (await page.getByRole('menuitemradio').count()) >= 2,
        'Auto and at least one rendition',
      );
      await page.keyboard.press('Escape');
    });

    it('4. the viewer chats, the streamer sees it, deletes it as the owner, and it disappears for both', async () => {
      await signUp(viewer.page, VIEWER, `/${STREAMER}`);
      await streamer.page.goto(`/${STREAMER}`);
      for (const p of [viewer.page, streamer.page])
        await p.getByText('Connected').waitFor({ timeout: 15_000 });

      const body = `hello from the viewer <b>${Date.now()}</b>`;
      const input = viewer.page.getByLabel('Chat message', { exact: true });
      await input.fill(body);
      const sentAt = Date.now();
      await input.press('Enter');
      const onStreamer = streamer.page.locator('.msg', { hasText: body });
      await onStreamer.waitFor({ timeout: 10_000 });
      process.stdout.write(`# chat message reached the streamer in ${Date.now() - sentAt} ms\n`);
      await viewer.page.locator('.msg', { hasText: body }).waitFor();
      assert.equal(
        await streamer.page.locator('.msg-body b').count(),
        0,
        'the body is text, not HTML',
      );
      await screenshot(streamer.page, 'channel');

      await onStreamer.hover();
      await onStreamer.getByRole('button', { name: `Delete message from ${VIEWER}` }).click();
      await onStreamer.waitFor({ state: 'detached', timeout: 10_000 });
      await viewer.page
        .locator('.msg', { hasText: body })
        .waitFor({ state: 'detached', timeout: 10_000 });
    });

    it('5. the streamer edits the profile and the viewer sees the new display name', async () => {
      const page = streamer.page;
      await page.goto(`/u/${STREAMER}`);
      await page.getByRole('button', { name: 'Edit profile' }).click();
      await page.getByLabel('Display name').fill('Neon Test Pattern');
      await page.getByLabel('Bio').fill('Colour bars and a 440 Hz tone, live every day.');
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.getByTestId('profile-name').filter({ hasText: 'Neon Test Pattern' }).waitFor();
      await screenshot(page, 'profile');

      await viewer.page.goto(`/${STREAMER}`);
      await viewer.page
        .getByTestId('streamer-name')
        .filter({ hasText: 'Neon Test Pattern' })
        .waitFor({ timeout: 10_000 });
      await viewer.page.goto(`/u/${STREAMER}`);
      await viewer.page
        .getByTestId('profile-name')
        .filter({ hasText: 'Neon Test Pattern' })
        .waitFor();
      // The viewer is not the owner: no edit control.
      assert.equal(await viewer.page.getByRole('button', { name: 'Edit profile' }).count(), 0);
      await viewer.page.goto(`/${STREAMER}`);
      await assertPlays(viewer, 1);
    });

    it("5b. the viewer's network drops for 20 s: the player says it is reconnecting and plays again by itself", async () => {
      const page = viewer.page;
      const outage = (route: Route) => route.abort('internetdisconnected');
      await page.route('**/hls/**', outage);
      await page
        .getByTestId('player')
        .getByRole('status')
        .filter({ hasText: 'Reconnecting' })
        .waitFor({ timeout: 20_000 });
      // Long enough for hls.js and the player's own retries to give up on the first instance.
      await sleep(20_000);
      await page.unroute('**/hls/**', outage);
      const back = Date.now();
      await waitFor(
        async () => {
          const before = await videoState(page);
          await sleep(1000);
          const after = await videoState(page);
          return after.t - before.t > 0.5 && !after.paused;
        },
        { timeoutMs: 45_000, intervalMs: 0, what: 'the picture to move again after the outage' },
      ).catch(async (err: unknown) => {
        throw new Error(`${String(err)}\n${await playerReport(viewer)}`, { cause: err });
      });
      process.stdout.write(`# playing again ${Date.now() - back} ms after the network came back\n`);
      assert.equal(
        await page.getByTestId('player').getByRole('alert').count(),
        0,
        'no error shown',
      );
    });

    it('5c. a start whose audio never comes begins again by itself and plays', async () => {
      const page = viewer.page;
      // The video track loads and the audio does not, with nothing hls.js calls fatal: the
      // picture cannot start. The player must notice and start over once the audio is back.
      const until = Date.now() + 17_000;
      const noAudio = (route: Route) =>
        Date.now() < until ? route.abort('connectionreset') : route.continue();
      await page.route('**/hls/**/audio/**', noAudio);
      const asked = Date.now();
      try {
        await page.goto(`/${STREAMER}`);
        await assertPlays(viewer, 1);
        process.stdout.write(
          `# played 1 s after a stuck start, ${Date.now() - asked} ms after the page opened\n`,
        );
      } finally {
        await page.unroute('**/hls/**/audio/**', noAudio);
      }
      assert.ok(Date.now() >= until - 2000, 'it played only once the audio was back');
    });

    it('6. ffmpeg stops: the channel goes offline, lists the past broadcast, and it plays', async () => {
      await streamer.page.goto('/dashboard');
      assert.equal(
        ffmpeg?.child.exitCode,
        null,
        `ffmpeg still publishing: ${ffmpeg?.output().slice(-2000)}`,
      );
      await streamer.page
        .getByTestId('live-status')
        .filter({ hasText: 'LIVE' })
        .waitFor({ timeout: 15_000 });
      await sleep(1500); // let the preview draw a frame for the screenshot
      await screenshot(streamer.page, 'dashboard');

      assert.ok(ffmpeg);
      await ffmpeg.stop('SIGINT');
      const stoppedAt = Date.now();
      const page = viewer.page;
      // The viewer was watching: the page says the stream ended, with its recording.
      await page
        .getByRole('heading', { name: 'The stream has ended' })
        .waitFor({ timeout: 60_000 });
      // Measured, not asserted (the goal is 2 s; a loaded machine says nothing about it).
      process.stdout.write(
        `# "The stream has ended" on the viewer's page ${Date.now() - stoppedAt} ms after ffmpeg exited\n`,
      );
      await page.getByRole('link', { name: 'Watch the recording' }).waitFor();
      const vod = page.locator('[data-video]').first();
      // The offline channel page polls its past broadcasts: no reload.
      await vod.waitFor({ timeout: 60_000 });
      await screenshot(page, 'channel-offline');
      await vod.getByRole('link').first().click();
      await page.waitForURL('**/videos/**');
      await assertPlays(viewer, 3);
      await screenshot(page, 'video');
      await page.getByRole('slider', { name: 'Seek' }).waitFor();

      for (const [who, errors] of [
        ['streamer', streamer.errors],
        ['viewer', viewer.errors],
      ] as const) {
        const csp = errors.filter((e) => /Content Security Policy/i.test(e));
        assert.deepEqual(csp, [], `no CSP violations in the ${who}'s page`);
      }
    });

    it('7. the viewer is made an admin: their chat reconnects as them, with an admin’s powers, without a reload', async () => {
      for (const p of [viewer.page, streamer.page]) {
        await p.goto(`/${STREAMER}`);
        await p.getByText('Connected').waitFor({ timeout: 15_000 });
      }
      const body = `owner speaking ${Date.now()}`;
      const input = streamer.page.getByLabel('Chat message', { exact: true });
      await input.fill(body);
      await input.press('Enter');
      const seen = viewer.page.locator('.msg', { hasText: body });
      await seen.waitFor({ timeout: 10_000 });
      const remove = seen.getByRole('button', { name: `Delete message from ${STREAMER}` });
      assert.equal(await remove.count(), 0, 'a viewer cannot moderate the room');

      const commands = await adminCommands(
        neon.platform.db,
        neon.platform.logger,
        loadConfig(identitySpec, {}),
        neon.platform.publicUrl,
      );
      assert.equal((await commands.grantAdmin(VIEWER)).changed, true);
      // Chat ends the socket opened with the old roles; the page's new ticket
      // needs a refreshed access token (the old one says "user" and is refused).
      await seen.hover();
      await remove.waitFor({ timeout: 20_000 });
      await viewer.page.getByText('Connected').waitFor({ timeout: 15_000 });
      const reply = `now an admin ${Date.now()}`;
      const viewerInput = viewer.page.getByLabel('Chat message', { exact: true });
      await viewerInput.fill(reply);
      await viewerInput.press('Enter');
      await streamer.page.locator('.msg', { hasText: reply }).waitFor({ timeout: 10_000 });
      await viewer.page.getByRole('link', { name: 'Admin' }).first().waitFor({ timeout: 5_000 });
    });
  },
);
