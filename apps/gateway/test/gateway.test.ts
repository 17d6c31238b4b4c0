import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import type { Problem } from '@neon/contracts';
import { openSocket as openTestSocket, waitFor } from '@neon/testing';
import { CONTENT_SECURITY_POLICY } from '../src/proxy/security.js';
import { PHOENIX_TOKEN_PREFIX } from '../src/socket/upgrade.js';
import {
  PUBLIC_URL,
  makeKeys,
  mintTicket,
  mintToken,
  problem,
  startGateway,
  startUpstream,
  type GatewayHandle,
  type Keys,
  type Upstream,
  variants,
} from './harness.js';

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Opens a socket through the gateway; resolves with the first frame or the HTTP refusal. */
const openSocket = (url: string, options: string[] | { origin?: string } = {}) =>
  openTestSocket(url, {
    firstFrame: true,
    ...(Array.isArray(options) ? { protocols: options } : options),
  });

/** An event travels the bus: asked until the gateway stops answering 200, not after a fixed wait. */
function firstRefusal(ask: () => Promise<Response>, what: string): Promise<Response> {
  return waitFor(
    async () => {
      const r = await ask();
      if (r.status === 200) {
        await r.body?.cancel();
        return false;
      }
      return r;
    },
    { what },
  );
}

for (const variant of variants) {
  describe(`gateway with ${variant.name}`, { skip: variant.skip }, () => {
    let keys: Keys;
    let stranger: Keys;
    let identity: Upstream;
    let live: Upstream;
    let chat: Upstream;
    let gw: GatewayHandle;
    let published: JWK[];

    before(async () => {
      keys = await makeKeys();
      stranger = await makeKeys(keys.kid);
      published = [keys.publicJwk];
      identity = await startUpstream('identity', () => published);
      live = await startUpstream('live', () => []);
      chat = await startUpstream('chat', () => []);
      gw = await startGateway(
        {
          IDENTITY_URL: identity.url,
          LIVE_URL: live.url,
          CHAT_URL: chat.url,
          GATEWAY_BODY_LIMIT_BYTES: '4096',
          GATEWAY_UPSTREAM_TIMEOUT_MS: '500',
        },
        { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
      );
    });

    after(async () => {
      await gw.close();
      await Promise.all([identity.close(), live.close(), chat.close()]);
    });

    test('a valid token reaches the upstream as the X-Client-* identity', async () => {
      const token = await mintToken(keys, { username: 'alice', roles: ['user'] });
      const res = await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { client: unknown };
      assert.deepEqual(body.client, {
        id: '0190f000-0000-7000-8000-000000000001',
        username: 'alice',
        roles: ['user'],
      });
      // The verified token stops at the gateway; other schemes (OAuth client credentials) pass.
      assert.equal(identity.seen.at(-1)!.headers.authorization, undefined);
      await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: 'Basic Y2xpZW50OnNlY3JldA==' },
      });
      assert.equal(identity.seen.at(-1)!.headers.authorization, 'Basic Y2xpZW50OnNlY3JldA==');
    });

    test('the path and query are forwarded unchanged to the service that owns them', async () => {
      const res = await fetch(`${gw.url}/api/v1/streams/abc/x?y=1&z=%20`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { upstream: string; url: string };
      assert.equal(body.upstream, 'live');
      assert.equal(body.url, '/api/v1/streams/abc/x?y=1&z=%20');
    });

    test('every bad token is refused with 401 and never forwarded', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: PUBLIC_URL,
        aud: 'neon-api',
        sub: 'victim',
        username: 'victim',
        roles: ['admin'],
        iat: now,
        exp: now + 600,
        jti: randomUUID(),
      };
      const header = b64url({ alg: 'HS256', kid: keys.kid, typ: 'JWT' });
      const hsInput = `${header}.${b64url(claims)}`;
      const hsWithPublicKey = `${hsInput}.${createHmac('sha256', JSON.stringify(keys.publicJwk))
        .update(hsInput)
        .digest('base64url')}`;
      const valid = await mintToken(keys);
      const [vh, vp] = valid.split('.');
      const cases: [string, string, string][] = [
        [
          'alg none',
          `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`,
          'AUTH_TOKEN_INVALID',
        ],
        [
          'alg none, kid set',
          `${b64url({ alg: 'none', kid: keys.kid })}.${b64url(claims)}.`,
          'AUTH_TOKEN_INVALID',
        ],
        ['HS256 signed with the public key', hsWithPublicKey, 'AUTH_TOKEN_INVALID'],
        ['unknown kid', await mintToken(keys, { kid: 'nobody-knows' }), 'AUTH_TOKEN_INVALID'],
        ['signed by another key', await mintToken(stranger), 'AUTH_TOKEN_INVALID'],
        [
          'tampered payload',
          `${vh}.${b64url({ ...claims, sub: 'x' })}.${valid.split('.')[2]}`,
          'AUTH_TOKEN_INVALID',
        ],
        [
          'truncated signature',
          `${vh}.${vp}.${valid.split('.')[2]!.slice(0, 40)}`,
          'AUTH_TOKEN_INVALID',
        ],
        [
          'expired beyond the leeway',
          await mintToken(keys, { issuedAt: now - 900, lifetimeSeconds: 820 }),
          'AUTH_TOKEN_EXPIRED',
        ],
        ['wrong audience', await mintToken(keys, { audience: 'socket' }), 'AUTH_TOKEN_INVALID'],
        [
          'wrong issuer',
          await mintToken(keys, { issuer: 'http://evil.test' }),
          'AUTH_TOKEN_INVALID',
        ],
        [
          'one-hour lifetime',
          await mintToken(keys, { lifetimeSeconds: 3600 }),
          'AUTH_TOKEN_INVALID',
        ],
        [
          'issued in the future',
          await mintToken(keys, { issuedAt: now + 600 }),
          'AUTH_TOKEN_INVALID',
        ],
        ['not a JWT', 'hello', 'AUTH_TOKEN_INVALID'],
      ];
      const before = identity.seen.length;
      for (const [name, token, code] of cases) {
        const res = await fetch(`${gw.url}/api/v1/me`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 401, name);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"', name);
        assert.equal((await problem(res)).code, code, name);
      }
      assert.equal(identity.seen.length, before, 'no bad token reached the upstream');
    });

    test('a key published after a rotation is fetched when a token first names it', async () => {
      const next = await makeKeys();
      const token = await mintToken(next);
      const early = await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(early.status, 401, 'not published yet');
      await early.arrayBuffer();
      published = [keys.publicJwk, next.publicJwk];
      const later = await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(later.status, 200);
      await later.arrayBuffer();
      const old = await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${await mintToken(keys)}` },
      });
      assert.equal(old.status, 200, 'the previous key still verifies while published');
      await old.arrayBuffer();
    });

    test('a token within the 60 s leeway still passes', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await mintToken(keys, { issuedAt: now - 900, lifetimeSeconds: 870 });
      const res = await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
    });

    test('a suspension refuses a user’s earlier tokens and tickets at once, not their later ones', async () => {
      const sub = '0190f000-0000-7000-8000-0000000000aa';
      const now = Math.floor(Date.now() / 1000);
      const before = await mintToken(keys, { sub, username: 'mallory', issuedAt: now - 5 });
      const other = await mintToken(keys, { username: 'alice', issuedAt: now - 5 });
      const ask = (token: string) =>
        fetch(`${gw.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      // Verified and cached before the suspension: the cache must not keep it alive.
      assert.equal((await ask(before)).status, 200);

      await gw.bus.publish('identity.user.suspended.v1', {
        userId: sub,
        username: 'mallory',
        suspendedAt: new Date((now - 1) * 1000).toISOString(),
      });
      const res = await firstRefusal(() => ask(before), 'the suspension to reach the gateway');
      assert.equal(res.status, 401);
      const body = await problem(res);
      assert.equal(body.code, 'AUTH_TOKEN_INVALID');
      assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);

      // Someone else, and the same user's token from a later login, are untouched.
      assert.equal((await ask(other)).status, 200);
      const after = await mintToken(keys, { sub, username: 'mallory', issuedAt: now });
      assert.equal((await ask(after)).status, 200);

      // A socket ticket issued before the suspension no longer opens a socket.
      const ticket = await mintTicket(keys, { sub, username: 'mallory', issuedAt: now - 5 });
      const refused = await openSocket(
        `${gw.url.replace('http', 'ws')}/socket/websocket?token=${ticket}&vsn=2.0.0`,
      );
      assert.ok(!refused.ok);
      assert.equal(refused.status, 401);
    });

    test('a revoked admin role refuses the tokens and tickets that still say admin, not the refreshed ones', async () => {
      const sub = '0190f000-0000-7000-8000-0000000000ab';
      const now = Math.floor(Date.now() / 1000);
      const asAdmin = await mintToken(keys, {
        sub,
        username: 'erin',
        roles: ['user', 'admin'],
        issuedAt: now - 5,
      });
      const otherAdmin = await mintToken(keys, { roles: ['user', 'admin'], issuedAt: now - 5 });
      const ask = (token: string, path = '/admin/v1/users') =>
        fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const admitted = await ask(asAdmin);
      assert.equal(admitted.status, 200);
      await admitted.body?.cancel();

      await gw.bus.publish('identity.roles.changed.v1', {
        userId: sub,
        username: 'erin',
        roles: ['user'],
        changedAt: new Date().toISOString(),
      });
      const res = await firstRefusal(() => ask(asAdmin), 'the role change to reach the gateway');
      // Not a 403: the token itself is stale, and a refresh brings one with the roles held now.
      assert.equal(res.status, 401);
      assert.equal((await problem(res)).code, 'AUTH_TOKEN_INVALID');
      assert.equal((await ask(asAdmin, '/api/v1/me')).status, 401);

      // A token minted after the change (in the same second, too) carries ['user'] and passes.
      const refreshed = await mintToken(keys, { sub, username: 'erin', issuedAt: now });
      assert.equal((await ask(refreshed, '/api/v1/me')).status, 200);
      const denied = await ask(refreshed);
      assert.equal(denied.status, 403);
      await denied.body?.cancel();
      // Another admin is untouched.
      const other = await ask(otherAdmin);
      assert.equal(other.status, 200);
      await other.body?.cancel();

      // A ticket minted from the stale token would have made chat treat the socket as an admin's.
      const ticket = await mintTicket(keys, {
        sub,
        username: 'erin',
        roles: ['user', 'admin'],
        issuedAt: now,
      });
      const refused = await openSocket(
        `${gw.url.replace('http', 'ws')}/socket/websocket?token=${ticket}&vsn=2.0.0`,
      );
      assert.ok(!refused.ok);
      assert.equal(refused.status, 401);
    });

    test('a client-sent X-Client-Id never reaches an upstream', async () => {
      const spoof = {
        'x-client-id': 'someone-else',
        'x-client-username': 'root',
        'x-client-roles': 'admin',
        'x-neon-internal': 'guess',
      };
      const anonymous = await fetch(`${gw.url}/api/v1/streams/spoof`, { headers: spoof });
      const a = (await anonymous.json()) as { headers: Record<string, string>; client: unknown };
      assert.equal(a.client, null);
      assert.equal(a.headers['x-client-id'], undefined);
      assert.equal(a.headers['x-client-roles'], undefined);

      const token = await mintToken(keys, { sub: 'the-real-one', username: 'bob' });
      const signed = await fetch(`${gw.url}/api/v1/streams/spoof`, {
        headers: { ...spoof, authorization: `Bearer ${token}` },
      });
      const s = (await signed.json()) as { headers: Record<string, string>; client: unknown };
      assert.deepEqual(s.client, { id: 'the-real-one', username: 'bob', roles: ['user'] });
      assert.equal(s.headers['x-client-roles'], 'user');
    });

    test('the admin surface needs the admin role at the gateway', async () => {
      const none = await fetch(`${gw.url}/admin/v1/users`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await problem(none)).code, 'AUTH_REQUIRED');

      const user = await fetch(`${gw.url}/admin/v1/users`, {
        headers: { authorization: `Bearer ${await mintToken(keys, { roles: ['user'] })}` },
      });
      assert.equal(user.status, 403);
      assert.equal((await problem(user)).code, 'FORBIDDEN');

      const admin = await fetch(`${gw.url}/admin/v1/users`, {
        headers: { authorization: `Bearer ${await mintToken(keys, { roles: ['user', 'admin'] })}` },
      });
      assert.equal(admin.status, 200);
      assert.equal(((await admin.json()) as { upstream: string }).upstream, 'identity');
    });

    test('the admin surface needs a second factor, and a change needs a recent check of it', async () => {
      const now = Math.floor(Date.now() / 1000);
      const ask = async (stepUpAt: number | null, method = 'GET') =>
        fetch(`${gw.url}/admin/v1/users`, {
          method,
          headers: {
            authorization: `Bearer ${await mintToken(keys, { roles: ['user', 'admin'], stepUpAt })}`,
          },
        });
      const without = await ask(null);
      assert.equal(without.status, 403);
      assert.equal((await problem(without)).code, 'AUTH_MFA_REQUIRED');

      // Signed in with the factor long ago: reading works, changing needs a fresh check.
      const stale = now - 11 * 60;
      assert.equal((await ask(stale)).status, 200);
      const change = await ask(stale, 'POST');
      assert.equal(change.status, 403);
      assert.equal((await problem(change)).code, 'AUTH_STEP_UP_REQUIRED');
      const never = await ask(0, 'DELETE');
      assert.equal((await problem(never)).code, 'AUTH_STEP_UP_REQUIRED');
      assert.notEqual((await ask(now - 60, 'POST')).status, 403);

      // The check's time reaches the upstream, which applies the same rule.
      const seen = await ask(now - 60);
      assert.equal(seen.status, 200);
      assert.equal(identity.seen.at(-1)!.headers['x-client-step-up'], String(now - 60));
    });

    test('unrouted API paths are 404 problems; ambiguous paths are refused', async () => {
      for (const path of ['/api/v1/nothing-here', '/public/v2/x', '/admin/v2/x']) {
        const res = await fetch(`${gw.url}${path}`);
        assert.equal(res.status, 404, path);
        assert.equal((await problem(res)).code, 'NOT_FOUND');
      }
      const res = await fetch(`${gw.url}/api/v1/auth/..%2f..%2fadmin/v1/users`);
      assert.equal(res.status, 400);
      assert.equal((await problem(res)).code, 'BAD_REQUEST');
    });

    test('a service without a reachable replica answers 503; a slow one 504', async () => {
      const res = await fetch(`${gw.url}/api/v1/channels/x`);
      assert.equal(res.status, 503);
      assert.equal((await problem(res)).code, 'GATEWAY_UPSTREAM_UNAVAILABLE');
      const slow = await fetch(`${gw.url}/api/v1/streams/hang`);
      assert.equal(slow.status, 504);
      assert.equal((await problem(slow)).code, 'GATEWAY_UPSTREAM_TIMEOUT');
    });

    test('request bodies stream through and oversized ones answer 413', async () => {
      const ok = await fetch(`${gw.url}/api/v1/streams/upload`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(4000, 1),
      });
      assert.equal(((await ok.json()) as { bodyLength: number }).bodyLength, 4000);
      const big = await fetch(`${gw.url}/api/v1/streams/upload`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ x: 'y'.repeat(5000) }),
      });
      assert.equal(big.status, 413);
      assert.equal((await problem(big)).code, 'PAYLOAD_TOO_LARGE');
      const chunked = await fetch(`${gw.url}/api/v1/streams/upload`, {
        method: 'PUT',
        body: new ReadableStream({
          start(c) {
            for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(1000));
            c.close();
          },
        }),
        duplex: 'half',
      });
      assert.equal(chunked.status, 413);
    });

    test('a long-lived response streams before the upstream finishes it', async () => {
      const res = await fetch(`${gw.url}/api/v1/streams/live-feed`);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.match(Buffer.from(first.value).toString(), /data: first/);
      live.releaseStream();
      let rest = '';
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        rest += Buffer.from(r.value).toString();
      }
      assert.match(rest, /data: last/);
      const empty = await fetch(`${gw.url}/api/v1/streams/empty`);
      assert.equal(empty.status, 204);
    });

    test('concurrent requests for one segment cost the origin one; playlists always pass', async () => {
      const path = `/hls/ch${randomUUID().slice(0, 8)}/720p/seg-1.m4s`;
      const release = live.holdMedia();
      const pending = Array.from({ length: 5 }, () => fetch(`${gw.url}${path}`));
      await waitFor(() => live.seen.some((s) => s.url === path));
      release();
      const answers = await Promise.all(pending);
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.equal(Buffer.from(await a.arrayBuffer()).length, 1000);
      }
      const later = await fetch(`${gw.url}${path}`);
      assert.equal(later.headers.get('x-cache'), 'HIT');
      await later.arrayBuffer();
      assert.equal(live.seen.filter((s) => s.url === path).length, 1);

      const playlist = path.replace('seg-1.m4s', 'index.m3u8');
      for (let i = 0; i < 3; i++) await (await fetch(`${gw.url}${playlist}`)).arrayBuffer();
      assert.equal(live.seen.filter((s) => s.url === playlist).length, 3);
    });

    test('request ids are issued, or kept when valid, and forwarded', async () => {
      const given = await fetch(`${gw.url}/api/v1/streams/rid`, {
        headers: { 'x-request-id': 'abc-123' },
      });
      assert.equal(given.headers.get('x-request-id'), 'abc-123');
      assert.equal(
        ((await given.json()) as { headers: Record<string, string> }).headers['x-request-id'],
        'abc-123',
      );
      const bad = await fetch(`${gw.url}/api/v1/streams/rid`, {
        headers: { 'x-request-id': 'no spaces <>' },
      });
      const issued = bad.headers.get('x-request-id')!;
      assert.match(issued, /^[0-9a-f-]{36}$/);
      assert.equal(
        ((await bad.json()) as { headers: Record<string, string> }).headers['x-request-id'],
        issued,
      );
    });

    test('security headers on every answer; CORS only for PUBLIC_URL', async () => {
      const res = await fetch(`${gw.url}/api/v1/streams/h`, { headers: { origin: PUBLIC_URL } });
      await res.arrayBuffer();
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      const csp = CONTENT_SECURITY_POLICY.split('; ');
      for (const directive of ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"])
        assert.ok(csp.includes(directive), directive);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(res.headers.get('referrer-policy'));
      assert.equal(res.headers.get('access-control-allow-origin'), PUBLIC_URL);
      const other = await fetch(`${gw.url}/api/v1/streams/h`, {
        headers: { origin: 'http://evil.test' },
      });
      await other.arrayBuffer();
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const preflight = await fetch(`${gw.url}/api/v1/me`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.test', 'access-control-request-method': 'PATCH' },
      });
      assert.equal(preflight.status, 403);
      await preflight.arrayBuffer();
      const ours = await fetch(`${gw.url}/api/v1/me`, {
        method: 'OPTIONS',
        headers: { origin: PUBLIC_URL, 'access-control-request-method': 'PATCH' },
      });
      assert.equal(ours.status, 204);
      assert.match(ours.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    });

    test('a socket ticket works once, over ?token= or the phoenix protocol entry', async () => {
      const ticket = await mintTicket(keys, { sub: 'u-1', username: 'carol' });
      const first = await openSocket(
        `${gw.url.replace('http', 'ws')}/socket/websocket?vsn=2.0.0&token=${ticket}&id=forged`,
      );
      assert.ok(first.ok);
      const hello = JSON.parse(first.first) as { url: string };
      const forwarded = new URL(hello.url, 'http://x');
      assert.equal(forwarded.searchParams.get('token'), null);
      assert.equal(forwarded.searchParams.get('id'), 'u-1');
      assert.equal(forwarded.searchParams.get('username'), 'carol');
      assert.equal(forwarded.searchParams.get('vsn'), '2.0.0');
      const upstreamSide = chat.sockets.at(-1)!;
      assert.equal(upstreamSide.headers['x-client-id'], 'u-1');
      assert.equal(upstreamSide.headers['x-client-ip'], '127.0.0.1');
      const echoed = new Promise<string>((r) =>
        first.ws.once('message', (d) => r((d as Buffer).toString())),
      );
      first.ws.send('ping');
      assert.equal(await echoed, 'echo:ping');
      first.ws.close();

      const again = await openSocket(
        `${gw.url.replace('http', 'ws')}/socket/websocket?token=${ticket}`,
      );
      assert.ok(!again.ok);
      assert.equal(again.status, 401);
      assert.equal((JSON.parse(again.body) as Problem).code, 'AUTH_TICKET_INVALID');

      const viaProtocol = await mintTicket(keys, { sub: 'u-2', username: 'dave' });
      const entry = `${PHOENIX_TOKEN_PREFIX}${btoa(viaProtocol).replace(/=/g, '')}`;
      const phx = await openSocket(`${gw.url.replace('http', 'ws')}/socket/websocket?vsn=2.0.0`, [
        'phoenix',
        entry,
      ]);
      assert.ok(phx.ok);
      assert.equal(phx.ws.protocol, 'phoenix');
      const side = chat.sockets.at(-1)!;
      assert.equal(side.protocol, 'phoenix');
      assert.equal(new URL(side.url, 'http://x').searchParams.get('username'), 'dave');
      phx.ws.close();
      const replay = await openSocket(`${gw.url.replace('http', 'ws')}/socket/websocket`, [
        'phoenix',
        entry,
      ]);
      assert.ok(!replay.ok);
      assert.equal(replay.status, 401);
    });

    test('bad tickets are refused before the upgrade; no ticket is an anonymous socket', async () => {
      const base = `${gw.url.replace('http', 'ws')}/socket/websocket`;
      const accessToken = await mintToken(keys);
      const longTicket = await mintTicket(keys, { lifetimeSeconds: 900 });
      const expired = await mintTicket(keys, { issuedAt: Math.floor(Date.now() / 1000) - 61 });
      for (const bad of [accessToken, longTicket, expired, 'garbage']) {
        const r = await openSocket(`${base}?token=${bad}`);
        assert.ok(!r.ok);
        assert.equal(r.status, 401);
      }
      const anon = await openSocket(`${base}?vsn=2.0.0&id=forged&username=forged`);
      assert.ok(anon.ok);
      const url = new URL((JSON.parse(anon.first) as { url: string }).url, 'http://x');
      assert.equal(url.searchParams.get('id'), null);
      assert.equal(url.searchParams.get('username'), null);
      assert.equal(chat.sockets.at(-1)!.headers['x-client-id'], undefined);
      anon.ws.close();
    });

    test('a socket opens from PUBLIC_URL’s origin or none; any other origin is refused before the upgrade', async () => {
      const base = `${gw.url.replace('http', 'ws')}/socket/websocket?vsn=2.0.0`;
      for (const origin of [
        'http://evil.example',
        'null',
        'http://neon.test.evil.example',
        'https://neon.test',
      ]) {
        const before = chat.sockets.length;
        const ticket = await mintTicket(keys, { sub: 'u-origin', username: 'olga' });
        const r = await openSocket(`${base}&token=${ticket}`, { origin });
        assert.ok(!r.ok, origin);
        assert.equal(r.status, 403, origin);
        assert.equal((JSON.parse(r.body) as Problem).code, 'FORBIDDEN', origin);
        assert.equal(chat.sockets.length, before, `${origin} reached chat`);
      }
      for (const origin of [PUBLIC_URL, undefined]) {
        const s = await openSocket(base, origin === undefined ? {} : { origin });
        assert.ok(s.ok, String(origin));
        s.ws.close();
      }
    });

    test('the public port serves no metrics, on the front door or node’s server', async () => {
      const door = await fetch(`${gw.url}/metrics`);
      // Through node's server: a head the door leaves to it (a Content-Length).
      const node = await fetch(`${gw.url}/metrics`, { method: 'POST', body: '' });
      for (const res of [door, node]) {
        const text = await res.text();
        assert.ok(res.status === 404 || res.status === 405, String(res.status));
        assert.doesNotMatch(text, /http_request_duration_seconds|process_cpu/);
      }
    });

    test('logs never hold tokens, tickets or cookies', async () => {
      const token = await mintToken(keys);
      const ticket = await mintTicket(keys);
      await (
        await fetch(`${gw.url}/api/v1/streams/logged?token=secret-query-value&x=1`, {
          headers: { authorization: `Bearer ${token}`, cookie: 'neon_refresh=cookie-value' },
        })
      ).arrayBuffer();
      await (
        await fetch(`${gw.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}x` } })
      ).arrayBuffer();
      const s = await openSocket(
        `${gw.url.replace('http', 'ws')}/socket/websocket?token=${ticket}`,
      );
      assert.ok(s.ok);
      s.ws.close();
      await (await fetch(`${gw.url}/api/v1/streams/x?key=live_streamkey_value`)).arrayBuffer();
      const logs = gw.lines.join('');
      assert.match(logs, /\/api\/v1\/streams\/logged/, 'requests are logged');
      for (const secret of [
        token,
        ticket,
        'secret-query-value',
        'cookie-value',
        'live_streamkey_value',
      ])
        assert.ok(!logs.includes(secret), 'a secret reached the log');
      assert.ok(!logs.includes(token.split('.')[2]!), 'a signature reached the log');
    });
  });
}

describe('the web build the gateway serves', () => {
  let root: string;
  let gw: GatewayHandle;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'neon-web-'));
    await mkdir(join(root, 'assets'));
    await mkdir(join(root, '.vite'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Neon</title>');
    await writeFile(
      join(root, 'assets', 'app.js'),
      'console.log(1);\n//# sourceMappingURL=app.js.map',
    );
    await writeFile(join(root, 'assets', 'app.js.map'), '{"sources":["src/secret.ts"]}');
    await writeFile(join(root, '.vite', 'manifest.json'), '{}');
    await writeFile(join(root, '.env'), 'SECRET=1');
    gw = await startGateway({ WEB_ROOT: root });
  });
  after(async () => {
    await gw.close();
    await rm(root, { recursive: true, force: true });
  });

  test('serves the app, never its source maps or dotfiles', async () => {
    const app = await fetch(`${gw.url}/assets/app.js`);
    assert.equal(app.status, 200);
    await app.arrayBuffer();
    for (const path of ['/assets/app.js.map', '/.vite/manifest.json', '/.env']) {
      const res = await fetch(`${gw.url}${path}`);
      const text = await res.text();
      assert.ok(!text.includes('secret') && !text.includes('SECRET'), path);
      assert.ok(res.status === 404 || /<title>Neon/.test(text), `${path}: ${res.status}`);
    }
  });
});
