import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import {
  EventSubHeaders,
  PUBLIC_OPENAPI_PATH,
  publicApi,
  type ConnectedAppList,
  type ConsoleEventSubList,
  type OAuthAppWithSecret,
  type OAuthTokenResponse,
  type Problem,
  type PublicChannel,
  type PublicOperation,
  type PublicStream,
  type PublicUser,
  type StreamKeyResponse,
  type TokenResponse,
} from '@neon/contracts';
import { embeddedDataDir, syntheticSourceArgs, uniqueName, waitFor } from '@neon/testing';
import { startEmbedded, type Embedded } from '../../launcher/src/embedded.js';
import { run, type Spawned } from './lib/process.js';

/*
 * The public API as a third-party developer meets it, through the gateway of
 * the embedded platform: the OpenAPI document is valid and names exactly the
 * routes the services serve; an app token and a user token from the
 * authorization code flow (PKCE) call it, each within its scopes. An app
 * subscribes to stream.online with a webhook on loopback (the development
 * setting on), echoes the challenge, and hears a signed message when ffmpeg
 * starts publishing; its first attempts fail and the retry carries the same id.
 * The developer console's list shows the subscription to the app's owner only.
 */

/** The app's webhook receiver: echoes challenges, fails the first `failing` notifications. */
interface Receiver {
  server: Server;
  url: string;
  failing: number;
  got: { headers: IncomingHttpHeaders; body: string; answered: number }[];
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { server: createServer(), url: '', failing: 0, got: [] };
  r.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const type = req.headers[EventSubHeaders.type.toLowerCase()];
      let answered = 204;
      if (type === 'webhook_callback_verification') {
        answered = 200;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end((JSON.parse(body) as { challenge: string }).challenge);
      } else if (r.failing > 0) {
        r.failing--;
        answered = 503;
        res.writeHead(503).end();
      } else res.writeHead(204).end();
      r.got.push({ headers: req.headers, body, answered });
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

const CALLBACK = 'http://127.0.0.1:9/callback';
const PASSWORD = 'correct horse battery staple';

describe('the public API through the gateway', { timeout: 120_000 }, () => {
  let neon: Embedded;
  let dataDir: string;
  let developer: TokenResponse;
  let streamer: TokenResponse;
  let app: OAuthAppWithSecret;
  let hooks: Receiver;
  let ffmpeg: Spawned | undefined;

  before(async () => {
    hooks = await receiver();
    dataDir = await embeddedDataDir('neon-public-api-');
    neon = await startEmbedded({
      LOG_LEVEL: 'warn',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      RTMP_HOST: '127.0.0.1',
      RTMP_PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      NATS_URL: '',
      REDIS_URL: '',
      // The test's receiver is http on loopback; retries come quickly.
      CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK: 'true',
      CHANNELS_EVENTSUB_RETRY_MS: '300',
      CHANNELS_EVENTSUB_WORKER_INTERVAL_MS: '100',
    });
    developer = await signUp('dev');
    streamer = await signUp('str');
    const res = await json('POST', '/api/v1/oauth/apps', developer.accessToken, {
      name: 'Overlay Kit',
      redirectUris: [CALLBACK],
      type: 'confidential',
    });
    assert.equal(res.status, 201);
    app = res.body as OAuthAppWithSecret;
  });

  after(async () => {
    if (ffmpeg && ffmpeg.child.exitCode === null) await ffmpeg.stop('SIGKILL');
    await new Promise((resolve) => hooks?.server.close(resolve));
    await neon?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function json(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const res = await fetch(`${neon.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }

  async function signUp(prefix: string): Promise<TokenResponse> {
    const username = uniqueName(prefix).toLowerCase().replace(/-/g, '_').slice(0, 25);
    const res = await json('POST', '/api/v1/auth/register', undefined, {
      username,
      email: `${username}@example.com`,
      password: PASSWORD,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as TokenResponse;
  }

  async function token(params: Record<string, string>): Promise<OAuthTokenResponse> {
    const res = await fetch(`${neon.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams(params).toString(),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as OAuthTokenResponse;
  }

  /** The streamer consents in the consent screen's API; the app redeems the code with its verifier. */
  async function userToken(scope: string): Promise<OAuthTokenResponse> {
    const verifier = randomBytes(32).toString('base64url');
    const consent = await json('POST', '/api/v1/oauth/authorize', streamer.accessToken, {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: CALLBACK,
      scope,
      state: 'xyz',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      allowed: true,
    });
    assert.equal(consent.status, 200, JSON.stringify(consent.body));
    const back = new URL((consent.body as { redirectTo: string }).redirectTo);
    assert.equal(back.searchParams.get('state'), 'xyz');
    return token({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code')!,
      code_verifier: verifier,
      redirect_uri: CALLBACK,
    });
  }

  test('the OpenAPI document is valid 3.1 and names exactly what the services serve', async () => {
    const res = await json('GET', PUBLIC_OPENAPI_PATH);
    assert.equal(res.status, 200);
    const validator = new Validator();
    const result = await validator.validate(res.body as Record<string, unknown>);
    assert.deepEqual(result.errors ?? [], [], 'a valid OpenAPI document');
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');

    const documented = new Set<string>();
    const paths = (res.body as { paths: Record<string, Record<string, unknown>> }).paths;
    for (const [path, ops] of Object.entries(paths))
      for (const method of Object.keys(ops))
        documented.add(`${method.toUpperCase()} /public/v1${path.replace(/\{(\w+)\}/g, ':$1')}`);

    const served = new Map<string, unknown>();
    for (const service of neon.services)
      for (const r of service.server.routeList)
        if (r.url.startsWith('/public/v1/') && r.url !== PUBLIC_OPENAPI_PATH && r.method !== 'HEAD')
          served.set(`${r.method} ${r.url}`, r.schema);
    assert.deepEqual([...served.keys()].sort(), [...documented].sort());

    // Each route validates with the very schemas the document was built from.
    for (const o of Object.values(publicApi) as PublicOperation[]) {
      const schema = served.get(`${o.method} ${o.path}`) as Record<string, unknown>;
      assert.equal(schema.querystring, o.querystring, `${o.operationId} querystring`);
      assert.equal(schema.params, o.params, `${o.operationId} params`);
      assert.equal(schema.body, o.body, `${o.operationId} body`);
      if (o.response)
        assert.equal(
          (schema.response as Record<string, unknown>)[o.status],
          o.response,
          `${o.operationId} response`,
        );
    }
  });

  test('an app token reads public data; a private session token is refused', async () => {
    const appToken = await token({ grant_type: 'client_credentials' });
    const login = streamer.user.username;
    const users = await json('GET', `/public/v1/users?login=${login}`, appToken.access_token);
    assert.equal(users.status, 200, JSON.stringify(users.body));
    const [user] = (users.body as { data: PublicUser[] }).data;
    assert.equal(user!.id, streamer.user.id);
    assert.equal(user!.email, undefined);
    assert.ok(users.headers.get('ratelimit-remaining'), 'rate-limit state on every answer');

    const streams = await json('GET', '/public/v1/streams', appToken.access_token);
    assert.equal(streams.status, 200);
    assert.deepEqual((streams.body as { data: PublicStream[] }).data, []);

    const own = await json('PATCH', '/public/v1/channels', appToken.access_token, {
      tags: ['x'],
    });
    assert.equal(own.status, 403);
    assert.equal((own.body as Problem).code, 'OAUTH_USER_TOKEN_REQUIRED');

    // The web app's token is not an OAuth token, and an OAuth token is not the web app's.
    const session = await json('GET', `/public/v1/users?login=${login}`, streamer.accessToken);
    assert.equal(session.status, 401);
    const reverse = await json('GET', '/api/v1/me', appToken.access_token);
    assert.equal(reverse.status, 401);
    const none = await json('GET', `/public/v1/users?login=${login}`);
    assert.equal(none.status, 401);
    assert.equal((none.body as Problem).code, 'AUTH_REQUIRED');
  });

  test('a user token acts for the user within the scopes they granted', async () => {
    const granted = await userToken('user:read:email channel:manage:broadcast');
    assert.equal(granted.scope, 'user:read:email channel:manage:broadcast');
    const me = await json('GET', '/public/v1/users', granted.access_token);
    const [user] = (me.body as { data: PublicUser[] }).data;
    assert.equal(user!.login, streamer.user.username);
    assert.equal(user!.email, streamer.user.email);

    const changed = await json('PATCH', '/public/v1/channels', granted.access_token, {
      category: 'factorio',
      tags: ['Cozy'],
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const [channel] = (changed.body as { data: PublicChannel[] }).data;
    assert.deepEqual(channel!.category, { slug: 'factorio', name: 'Factorio' });
    assert.deepEqual(channel!.tags, ['cozy']);
    // The web app sees the change.
    const page = await json('GET', `/api/v1/channels/${streamer.user.username}`);
    assert.deepEqual((page.body as { tags: string[] }).tags, ['cozy']);

    // A scope the user did not grant.
    const followers = await json(
      'GET',
      `/public/v1/channels/followers?broadcasterId=${streamer.user.id}`,
      granted.access_token,
    );
    assert.equal(followers.status, 403);
    assert.equal((followers.body as Problem).code, 'OAUTH_SCOPE_INSUFFICIENT');

    // Revoked, the token stops at the gateway.
    const revoked = await fetch(`${neon.url}/oauth2/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: granted.refresh_token! }).toString(),
    });
    assert.equal(revoked.status, 200);
    const after = await json('GET', '/public/v1/users', granted.access_token);
    assert.equal(after.status, 401);
  });

  test('a user who disconnects the app in settings ends its access token at once', async () => {
    const granted = await userToken('user:read:email');
    assert.equal((await json('GET', '/public/v1/users', granted.access_token)).status, 200);
    const connections = await json('GET', '/api/v1/oauth/connections', streamer.accessToken);
    const grant = (connections.body as ConnectedAppList).items.find(
      (c) => c.clientId === app.clientId,
    );
    assert.ok(grant, 'the app is listed as connected');
    const gone = await json(
      'DELETE',
      `/api/v1/oauth/connections/${grant.grantId}`,
      streamer.accessToken,
    );
    assert.equal(gone.status, 204);
    const after = await json('GET', '/public/v1/users', granted.access_token);
    assert.equal(after.status, 401);
  });

  test('bad input through the gateway is a problem, and the platform stays up', async () => {
    const appToken = (await token({ grant_type: 'client_credentials' })).access_token;
    for (const path of [
      '/public/v1/users?id=not-a-uuid',
      '/public/v1/streams?first=1000',
      '/public/v1/streams?after=%FF%FE',
      `/public/v1/channels?login=${'a'.repeat(300)}`,
      '/public/v1/no-such-thing',
    ]) {
      const res = await json('GET', path, appToken);
      assert.ok([400, 404].includes(res.status), `${path}: ${res.status}`);
      assert.equal(typeof (res.body as Problem).code, 'string', path);
    }
    const huge = await json('PATCH', '/public/v1/channels', appToken, {
      tags: Array.from({ length: 5000 }, () => 'x'),
    });
    assert.ok([400, 403, 413].includes(huge.status));
    assert.equal((await json('GET', '/healthz')).status, 200);
  });

  test('a webhook hears a real publish go live, signed, and its retries keep the message id', async () => {
    const appToken = (await token({ grant_type: 'client_credentials' })).access_token;
    const secret = randomBytes(24).toString('hex');
    const created = await json('POST', '/public/v1/eventsub/subscriptions', appToken, {
      type: 'stream.online',
      version: '1',
      condition: { broadcasterUserId: streamer.user.id },
      transport: { method: 'webhook', callback: hooks.url, secret },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await waitFor(
      async () => {
        const list = await json('GET', '/public/v1/eventsub/subscriptions', appToken);
        const [sub] = (list.body as { data: { status: string }[] }).data;
        return sub?.status === 'enabled';
      },
      { what: 'the subscription enabled after the challenge', timeoutMs: 20_000 },
    );
    // The developer console's list, through the gateway: the app's owner sees it enabled,
    // anyone else gets the same 404 as for an app that does not exist.
    const consolePath = `/api/v1/eventsub/apps/${app.clientId}/subscriptions`;
    const mine = await json('GET', consolePath, developer.accessToken);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    const [shown] = (mine.body as ConsoleEventSubList).items;
    assert.equal(shown?.status, 'enabled');
    assert.equal(shown.transport.callback, hooks.url);
    const theirs = await json('GET', consolePath, streamer.accessToken);
    assert.equal(theirs.status, 404);
    assert.match(theirs.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((theirs.body as Problem).code, 'OAUTH_APP_NOT_FOUND');
    // An app's token is not a session: the console's API is not on /public/v1.
    assert.equal((await json('GET', consolePath, appToken)).status, 401);

    hooks.failing = 2;
    const key = await json('GET', '/api/v1/me/stream-key', streamer.accessToken);
    const { rtmpUrl, streamKey } = key.body as StreamKeyResponse;
    ffmpeg = run(
      'ffmpeg',
      syntheticSourceArgs(`${rtmpUrl.replace('//localhost', '//127.0.0.1')}/${streamKey}`, {
        width: 320,
        height: 180,
        preset: 'ultrafast',
        videoKbps: 300,
        logLevel: 'warning',
      }),
      {},
    );
    const delivered = await waitFor(
      () =>
        hooks.got.find(
          (g) =>
            g.answered === 204 && g.headers[EventSubHeaders.type.toLowerCase()] === 'notification',
        ),
      { what: 'the go-live notification taken', timeoutMs: 60_000 },
    );
    await ffmpeg.stop('SIGINT');

    const header = (name: string) => String(delivered.headers[name.toLowerCase()]);
    const id = header(EventSubHeaders.id);
    const stamp = header(EventSubHeaders.timestamp);
    const expected = `sha256=${createHmac('sha256', secret)
      .update(id + stamp + delivered.body)
      .digest('hex')}`;
    assert.equal(header(EventSubHeaders.signature), expected, 'signed with the secret');
    assert.equal(header(EventSubHeaders.subscriptionType), 'stream.online');
    const message = JSON.parse(delivered.body) as {
      event: { broadcasterUserId: string; broadcasterUserLogin: string; type: string };
    };
    assert.equal(message.event.broadcasterUserId, streamer.user.id);
    assert.equal(message.event.broadcasterUserLogin, streamer.user.username);
    // The two refused attempts were the same message, each with its own time.
    const attempts = hooks.got.filter(
      (g) => g.headers[EventSubHeaders.type.toLowerCase()] === 'notification',
    );
    assert.deepEqual(
      attempts.map((a) => a.answered),
      [503, 503, 204],
    );
    assert.equal(new Set(attempts.map((a) => a.headers[EventSubHeaders.id.toLowerCase()])).size, 1);
    assert.equal(
      new Set(attempts.map((a) => a.headers[EventSubHeaders.timestamp.toLowerCase()])).size,
      3,
    );
  });
});
