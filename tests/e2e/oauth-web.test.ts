import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
 * A third-party app and a Neon user meet through OAuth 2.0, in Chromium
 * against the embedded platform: a developer registers a confidential app in
 * /developers and reads its client id and secret off the page; the test plays
 * the app (PKCE S256, state, a callback server on 127.0.0.1); a second user
 * opens the authorization URL, signs up on the way, reads the consent screen
 * and authorizes; the app exchanges the code once (a replay is refused) and
 * refreshes; the user disconnects it in Settings → Security and its refresh
 * token dies. Cancel answers access_denied with the state; a redirect URI
 * the app did not register is explained on Neon and goes nowhere. The app
 * subscribes to two webhooks; on a phone the console lists them with their
 * status (one verified, one whose callback answered 404) and deletes one.
 * The pages pass axe (WCAG 2.0–2.2 A/AA) in both themes, on a phone and a
 * desktop. The API reference renders the OpenAPI document under the
 * gateway's CSP and runs an operation with the app's token.
 */

const suffix = String(process.pid % 100_000);
const DEVELOPER = `oadev${suffix}`;
const VIEWER = `oaview${suffix}`;
const PASSWORD = 'correct horse battery staple';
const APP = 'Overlay Kit';
const SCOPE = 'user:read:email channel:read:followers';

/** The app's redirect URI: records every query it is sent to, in order. */
interface Callback {
  server: Server;
  uri: string;
  received: URLSearchParams[];
  next(): Promise<URLSearchParams>;
}

async function callbackServer(): Promise<Callback> {
  const received: URLSearchParams[] = [];
  const waiting: ((q: URLSearchParams) => void)[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/hook') {
      // The app's webhook: it echoes the challenge, as a callback must.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          challenge?: string;
        };
        if (message.challenge)
          res.writeHead(200, { 'content-type': 'text/plain' }).end(message.challenge);
        else res.writeHead(204).end();
      });
      return;
    }
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    received.push(url.searchParams);
    waiting.shift()?.(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Overlay Kit</title><h1>Overlay Kit got your answer</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    uri: `http://127.0.0.1:${port}/callback`,
    received,
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** The app's side of one authorization: PKCE S256 and a state of its own. */
function authorization(clientId: string, redirectUri: string) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(12).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return { verifier, state, path: `/oauth/authorize?${query.toString()}` };
}

describe('OAuth in the browser: console, consent, connected apps', { timeout: 300_000 }, () => {
  let platform: WebPlatform | undefined;
  let neon: Embedded;
  let api: string;
  let browser: Browser;
  let developer: { context: BrowserContext; page: Page; errors: string[] };
  let viewer: { context: BrowserContext; page: Page; errors: string[] };
  let callback: Callback;
  let clientId = '';
  let clientSecret = '';

  /** The token endpoint as a confidential client calls it: a form, client_secret_basic. */
  async function token(params: Record<string, string>) {
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString('base64');
    const res = await fetch(`${api}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${basic}`,
      },
      body: new URLSearchParams(params).toString(),
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        access_token?: string;
        refresh_token?: string;
        token_type?: string;
        scope?: string;
        error?: string;
      },
    };
  }

  /** The viewer answers a fresh authorization request; resolves with what the app received. */
  async function answer(button: 'Authorize' | 'Cancel') {
    const request = authorization(clientId, callback.uri);
    const page = viewer.page;
    await page.goto(request.path);
    await page.getByRole('heading', { name: `${APP} wants to access your Neon account` }).waitFor();
    const received = callback.next();
    await page.getByRole('button', { name: button }).click();
    const query = await received;
    await page.getByRole('heading', { name: 'Overlay Kit got your answer' }).waitFor();
    return { request, query };
  }

  before(async () => {
    platform = await startWebPlatform('neon-oauth-e2e-', {
      // Every page load of a signed-in session refreshes it once; the axe rounds load many.
      GATEWAY_AUTH_RATE_LIMIT: '1000',
      // The app's webhooks go to the test's server, http on loopback.
      CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK: 'true',
      CHANNELS_EVENTSUB_WORKER_INTERVAL_MS: '100',
    });
    neon = platform.neon;
    api = neon.url.replace('//localhost', '//127.0.0.1');
    callback = await callbackServer();
    browser = await launchBrowser();
    developer = await newPage(browser, neon.url);
    viewer = await newPage(browser, neon.url);
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => callback?.server.close(resolve));
    await platform?.close();
  });

  it('1. a developer registers a confidential app and reads its client id and secret once', async () => {
    const page = developer.page;
    await signUp(page, DEVELOPER, PASSWORD, '/developers');
    await page.getByRole('heading', { name: 'Developer console' }).waitFor();
    await page.getByRole('button', { name: 'Register an application' }).click();
    await page.getByLabel('Name').fill(APP);
    await page.getByLabel('Redirect URI 1').fill(callback.uri);
    assert.equal(await page.getByLabel('Confidential').isChecked(), true);
    await page.getByRole('button', { name: 'Register', exact: true }).click();

    const notice = page.getByRole('region', { name: `Client secret of ${APP}` });
    await notice.waitFor();
    await notice.getByText('It will not be shown again').waitFor();
    clientId = ((await notice.getByTestId('new-client-id').textContent()) ?? '').trim();
    clientSecret = ((await notice.getByTestId('client-secret').textContent()) ?? '').trim();
    assert.match(clientSecret, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(clientId.length > 0);
    const item = page.getByRole('listitem', { name: APP });
    await item.getByText(callback.uri).waitFor();
    assert.equal((await item.getByTestId('client-id').textContent())?.trim(), clientId);
    await screenshot(page, 'oauth-console-secret');

    await page.getByRole('button', { name: 'I have saved the secret' }).click();
    assert.equal(await page.getByText(clientSecret).count(), 0);
    await page.reload();
    await page.getByRole('listitem', { name: APP }).waitFor();
    assert.equal(await page.getByText(clientSecret).count(), 0, 'the secret is shown only once');
  });

  it('2. a signed-out user opening the authorization URL signs up on the way and reads the consent screen', async () => {
    const page = viewer.page;
    const request = authorization(clientId, callback.uri);
    await page.goto(request.path);
    await page.waitForURL((url) => url.pathname === '/login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username', { exact: true }).fill(VIEWER);
    await page.getByLabel('Email').fill(`${VIEWER}@example.test`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    // Back at the same request, every parameter intact.
    await page.waitForURL((url) => url.pathname === '/oauth/authorize');
    assert.equal(new URL(page.url()).search, request.path.slice(request.path.indexOf('?')));

    await page.getByRole('heading', { name: `${APP} wants to access your Neon account` }).waitFor();
    await page.getByText(`@${VIEWER}`).waitFor();
    const scopes = page.getByRole('list', { name: `This will allow ${APP} to:` });
    assert.deepEqual(await scopes.getByRole('listitem').allTextContents(), [
      'See your email address',
      'See who follows your channel',
    ]);
    await page.getByText(new URL(callback.uri).origin, { exact: true }).waitFor();
    await screenshot(page, 'oauth-consent');
  });

  it('3. Authorize brings the app a code and its state; the code works once at the token endpoint', async () => {
    const { request, query } = await answer('Authorize');
    const code = query.get('code');
    assert.ok(code, `a code in ${query.toString()}`);
    assert.equal(query.get('state'), request.state);
    assert.equal(query.get('error'), null);

    const exchange = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback.uri,
      code_verifier: request.verifier,
    };
    const first = await token(exchange);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.token_type, 'Bearer');
    assert.equal(first.body.scope, SCOPE);
    assert.ok(first.body.access_token);
    assert.ok(first.body.refresh_token);

    const replay = await token(exchange);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    // A replayed code ends what it issued (RFC 6749 §4.1.2): its refresh token is dead too.
    const afterReplay = await token({
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token,
    });
    assert.equal(afterReplay.body.error, 'invalid_grant');
  });

  it('4. authorized again, the app is under Connected apps; disconnecting it kills its refresh token', async () => {
    const { request, query } = await answer('Authorize');
    const tokens = await token({
      grant_type: 'authorization_code',
      code: query.get('code') ?? '',
      redirect_uri: callback.uri,
      code_verifier: request.verifier,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token ?? '',
    });
    assert.equal(refreshed.status, 200, 'the refresh token works while the app is connected');
    const refreshToken = refreshed.body.refresh_token ?? '';

    const page = viewer.page;
    await page.goto('/settings/security');
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();
    const item = page.getByRole('listitem', { name: APP });
    await item.getByText('See your email address').waitFor();
    await item.getByText('See who follows your channel').waitFor();
    await item.getByText(/^Connected on /).waitFor();
    await screenshot(page, 'oauth-connected-apps');
    await item.getByRole('button', { name: `Disconnect ${APP}…` }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Disconnect' }).click();
    await page.getByText(`Disconnected ${APP}.`).waitFor();
    assert.equal(await page.getByRole('listitem', { name: APP }).count(), 0);
    await page.reload();
    await page.getByText('No apps are connected to your account.').waitFor();

    const dead = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(dead.status, 400);
    assert.equal(dead.body.error, 'invalid_grant');
  });

  it('5. Cancel brings the app error=access_denied with its state, and no code', async () => {
    const { request, query } = await answer('Cancel');
    assert.equal(query.get('error'), 'access_denied');
    assert.equal(query.get('state'), request.state);
    assert.equal(query.get('code'), null);
  });

  it('6. a redirect URI the app did not register is explained on Neon and sends nobody anywhere', async () => {
    const page = viewer.page;
    const before = callback.received.length;
    const request = authorization(clientId, callback.uri.replace('/callback', '/elsewhere'));
    await page.goto(request.path);
    await page
      .getByRole('heading', { name: 'This authorization request cannot be completed' })
      .waitFor();
    await page.getByText('did not register').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Authorize' }).count(), 0);
    assert.equal(new URL(page.url()).pathname, '/oauth/authorize');
    assert.equal(callback.received.length, before);
  });

  it('7. the console lists the app’s webhooks with their status, and deletes one', async () => {
    const app = await token({ grant_type: 'client_credentials' });
    const appToken = app.body.access_token ?? '';
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${appToken}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as { data: { id: string }[] } };
    };
    const [me] = (await call('GET', `/public/v1/users?login=${DEVELOPER}`)).body.data;
    assert.ok(me);
    const origin = new URL(callback.uri).origin;
    // One callback echoes the challenge; the other answers 404 to it.
    for (const path of ['/hook', '/nowhere'])
      assert.equal(
        (
          await call('POST', '/public/v1/eventsub/subscriptions', {
            type: 'stream.online',
            version: '1',
            condition: { broadcasterUserId: me.id },
            transport: {
              method: 'webhook',
              callback: `${origin}${path}`,
              secret: 'e2e-secret-12345',
            },
          })
        ).status,
        202,
      );

    const page = developer.page;
    await page.setViewportSize({ width: PHONE.width, height: PHONE.height });
    await page.goto('/developers');
    const item = page.getByRole('listitem', { name: APP });
    await item.getByRole('button', { name: 'Webhooks (EventSub)' }).click();
    const section = item.getByRole('region', { name: 'Webhooks (EventSub)' });
    const active = section.getByRole('listitem', { name: new RegExp(`${origin}/hook$`) });
    const failed = section.getByRole('listitem', { name: new RegExp(`${origin}/nowhere$`) });
    // A pending one is watched until its callback answers; Refresh asks at once.
    await section.getByRole('button', { name: `Refresh the webhooks of ${APP}` }).click();
    await active.getByText('Active', { exact: true }).waitFor({ timeout: 20_000 });
    await failed.getByText('Verification failed', { exact: true }).waitFor();
    await failed.getByText('answered 404').waitFor();
    await failed.scrollIntoViewIfNeeded();
    await screenshot(page, 'oauth-console-webhooks');
    assert.equal(await overflow(page), 0, 'no wider than the phone');
    const violations = await axe(page);
    assert.deepEqual(
      violations.map((v) => describeViolation(v)),
      [],
    );

    await failed.getByRole('button', { name: /^Delete the stream\.online webhook/ }).click();
    await section.getByRole('alertdialog').getByRole('button', { name: 'Delete webhook' }).click();
    await section.getByText(`Deleted the stream.online webhook to ${origin}/nowhere.`).waitFor();
    await failed.waitFor({ state: 'detached' });
    assert.equal(await section.getByRole('listitem').count(), 1);
    const left = await call('GET', '/public/v1/eventsub/subscriptions');
    assert.equal(left.body.data.length, 1, 'the app sees it gone too');
  });

  it('8. the console, the consent screen and connected apps pass axe in both themes, phone and desktop', async () => {
    const consent = authorization(clientId, callback.uri).path;
    const failures: string[] = [];
    for (const viewport of [DESKTOP, PHONE]) {
      for (const colorScheme of ['dark', 'light'] as const) {
        for (const [session, path, ready] of [
          [developer, '/developers', 'Your applications'],
          [developer, '/developers/docs', 'Scopes'],
          [viewer, consent, `${APP} wants to access your Neon account`],
          [viewer, '/settings/security', 'Connected apps'],
        ] as const) {
          const page = session.page;
          await page.setViewportSize({ width: viewport.width, height: viewport.height });
          await page.emulateMedia({ colorScheme });
          await page.goto(path);
          await page.getByRole('heading', { name: ready }).waitFor();
          await page.locator('main .spinner').first().waitFor({ state: 'detached' });
          const where = `${path.split('?')[0]} (${viewport.name}, ${colorScheme})`;
          for (const v of await axe(page)) failures.push(`${where}: ${describeViolation(v)}`);
          const wider = viewport === PHONE ? await overflow(page) : 0;
          if (wider > 0) failures.push(`${where}: ${wider} px wider than the screen`);
        }
      }
    }
    assert.deepEqual(failures, []);
    for (const { errors } of [developer, viewer])
      assert.deepEqual(
        errors.filter((e) => !/status of 4\d\d/.test(e)),
        [],
      );
  });

  it('9. the API reference lists the document’s operations and runs one with a pasted token, under the CSP, in both themes', async () => {
    const app = await token({ grant_type: 'client_credentials' });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    const accessToken = app.body.access_token ?? '';
    const failures: string[] = [];
    for (const viewport of [DESKTOP, PHONE]) {
      for (const colorScheme of ['dark', 'light'] as const) {
        const where = `/developers/reference (${viewport.name}, ${colorScheme})`;
        const { context, page, errors } = await newPage(browser, neon.url, viewport, colorScheme);
        // Nothing leaves the site: no validator badge, no fonts, no telemetry.
        const elsewhere: string[] = [];
        page.on('request', (r) => {
          if (new URL(r.url()).origin !== new URL(neon.url).origin) elsewhere.push(r.url());
        });
        try {
          // Reached from the OAuth docs, as a developer would.
          await page.goto('/developers/docs');
          await page.getByRole('link', { name: 'API reference' }).click();
          await page.waitForURL((url) => url.pathname === '/developers/reference');
          await page.getByRole('heading', { name: 'Public API reference', level: 1 }).waitFor();

          // The operations come from /public/v1/openapi.json: its tags, paths and operation ids.
          await page.locator('.opblock-tag', { hasText: 'Streams' }).waitFor({ timeout: 30_000 });
          const op = page.locator('#operations-Streams-getStreams');
          await op.getByText('/streams', { exact: true }).waitFor();
          await op.getByText('getStreams', { exact: true }).waitFor();
          assert.ok((await page.locator('.opblock').count()) >= 10, 'every operation is listed');

          await page.getByLabel('Access token').fill(accessToken);
          const summary = op.locator('.opblock-summary-control');
          await summary.click();
          assert.equal(await summary.getAttribute('aria-expanded'), 'true');
          await op.getByRole('button', { name: 'Try it out' }).click();
          await op.getByRole('button', { name: 'Execute' }).click();
          const live = op.locator('.live-responses-table .response');
          await live.first().waitFor();
          assert.equal(
            (await live.locator('.response-col_status').first().textContent())?.trim(),
            '200',
          );
          // The page of live channels, empty or not.
          await live.locator('.microlight', { hasText: '"pagination"' }).first().waitFor();
          // Sent with the pasted token: the request as Swagger UI shows it after our interceptor.
          await op.locator('.curl-command').getByText('Authorization: Bearer').waitFor();
          await screenshot(page, `oauth-reference-${viewport.name}-${colorScheme}`);

          const csp = errors.filter((e) => /Content Security Policy/i.test(e));
          assert.deepEqual(csp, [], `${where}: no Content Security Policy violations`);
          assert.deepEqual(errors, [], `${where}: no page errors`);
          assert.deepEqual(elsewhere, [], `${where}: no request to another origin`);

          // From the top: scrolled down, whatever sits under the sticky top bar counts as an
          // obscured touch target, which says nothing about the page.
          await page.evaluate('window.scrollTo(0, 0)');
          for (const v of await axe(page)) failures.push(`${where}: ${describeViolation(v)}`);
          const wider = viewport === PHONE ? await overflow(page) : 0;
          if (wider > 0) failures.push(`${where}: ${wider} px wider than the screen`);
        } finally {
          await context.close();
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
