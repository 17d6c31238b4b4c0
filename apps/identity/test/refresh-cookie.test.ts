import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  REFRESH_COOKIE,
  REFRESH_COOKIE_SECURE,
  type Problem,
  type TokenResponse,
} from '@neon/contracts';
import { createPgliteDb } from '@neon/db';
import { MemoryBus } from '@neon/bus';
import { newAccount, PUBLIC_URL, start, type Harness } from './harness.js';

const HTTPS_URL = 'https://neon.example';

interface Deployment {
  name: string;
  publicUrl: string;
  cookie: string;
  attributes: RegExp[];
  absent: RegExp[];
}

const deployments: Deployment[] = [
  {
    name: 'plain http (local development)',
    publicUrl: PUBLIC_URL,
    cookie: REFRESH_COOKIE,
    attributes: [/; Path=\/api\/v1\/auth(;|$)/, /; HttpOnly(;|$)/, /; SameSite=Strict(;|$)/],
    // Browsers refuse a __Host- cookie without Secure, and keep no Secure cookie over http.
    absent: [/Secure/, /__Host-/, /Domain=/i],
  },
  {
    name: 'https',
    publicUrl: HTTPS_URL,
    cookie: REFRESH_COOKIE_SECURE,
    attributes: [/; Path=\/(;|$)/, /; HttpOnly(;|$)/, /; SameSite=Strict(;|$)/, /; Secure(;|$)/],
    absent: [/Domain=/i],
  },
];

for (const d of deployments) {
  describe(`refresh cookie and origin checks, ${d.name}`, () => {
    let h: Harness;
    let bus: MemoryBus;
    let close: () => Promise<void>;
    const origin = new URL(d.publicUrl).origin;

    before(async () => {
      const db = await createPgliteDb({});
      bus = new MemoryBus({ producer: 'identity' });
      h = await start({ db, bus }, {}, d.publicUrl);
      close = async () => {
        await h.close();
        await bus.close();
        await db.close();
      };
    });
    after(() => close?.());

    const post = (url: string, headers: Record<string, string>, payload?: object) =>
      h.app.server.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

    function cookieOf(setCookie: unknown): string {
      const header = String(setCookie);
      const match = new RegExp(`^${d.cookie.replace(/[-]/g, '\\-')}=([A-Za-z0-9_-]{43});`).exec(
        header,
      );
      assert.ok(match, `a ${d.cookie} cookie, got ${header}`);
      return match[1]!;
    }

    async function signIn(): Promise<string> {
      const account = newAccount();
      const res = await post('/api/v1/auth/register', { origin }, account);
      assert.equal(res.statusCode, 201, res.body);
      return cookieOf(res.headers['set-cookie']);
    }

    function problem(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      return { status: res.statusCode, code: (JSON.parse(res.body) as Problem).code };
    }

    test('the cookie is named and scoped for the deployment', async () => {
      const account = newAccount();
      const res = await post('/api/v1/auth/register', { origin }, account);
      assert.equal(res.statusCode, 201, res.body);
      // The refresh cookie's own line (the device cookie is set beside it).
      const lines = res.headers['set-cookie'];
      const header = (Array.isArray(lines) ? lines : [String(lines)]).find((l) =>
        l.startsWith(`${d.cookie}=`),
      )!;
      cookieOf(header);
      for (const a of d.attributes) assert.match(header, a);
      for (const a of d.absent) assert.doesNotMatch(header, a);
      assert.equal(res.json<TokenResponse>().refreshToken, undefined);

      const out = await post('/api/v1/auth/logout', {
        origin,
        cookie: `${d.cookie}=${cookieOf(header)}`,
      });
      assert.equal(out.statusCode, 204);
      const cleared = String(out.headers['set-cookie']);
      assert.match(cleared, new RegExp(`^${d.cookie}=;`));
      assert.match(cleared, /Max-Age=0/);
      for (const a of d.attributes) assert.match(cleared, a);
    });

    test('the cookie works from our own origin', async () => {
      const token = await signIn();
      const res = await post('/api/v1/auth/refresh', { origin, cookie: `${d.cookie}=${token}` });
      assert.equal(res.statusCode, 200, res.body);
      cookieOf(res.headers['set-cookie']);
    });

    test('another origin, or null, is refused on every endpoint that sets or reads the cookie, and nothing happens', async () => {
      const token = await signIn();
      const cookie = `${d.cookie}=${token}`;
      for (const evil of [
        'https://evil.example',
        'null',
        `${origin}.evil.example`,
        'http://neon.test:8080',
      ]) {
        if (evil === origin) continue;
        for (const path of ['/api/v1/auth/refresh', '/api/v1/auth/logout']) {
          const res = await post(path, { origin: evil, cookie });
          assert.deepEqual(
            problem(res),
            { status: 403, code: 'AUTH_ORIGIN_REFUSED' },
            `${path} from ${evil}`,
          );
          assert.equal(
            res.headers['set-cookie'],
            undefined,
            'the cookie is neither rotated nor cleared',
          );
        }
        const login = await post(
          '/api/v1/auth/login',
          { origin: evil },
          { login: 'nobody', password: 'x' },
        );
        assert.deepEqual(problem(login), { status: 403, code: 'AUTH_ORIGIN_REFUSED' });
        const register = await post('/api/v1/auth/register', { origin: evil }, newAccount());
        assert.deepEqual(problem(register), { status: 403, code: 'AUTH_ORIGIN_REFUSED' });
      }
      // The refused logouts ended nothing: the session still refreshes.
      const res = await post('/api/v1/auth/refresh', { origin, cookie });
      assert.equal(res.statusCode, 200, res.body);
    });

    test('the cookie without Origin needs X-Requested-With; the body transport needs neither', async () => {
      const token = await signIn();
      const bare = await post('/api/v1/auth/refresh', { cookie: `${d.cookie}=${token}` });
      assert.deepEqual(problem(bare), { status: 403, code: 'AUTH_ORIGIN_REFUSED' });
      const marked = await post('/api/v1/auth/refresh', {
        cookie: `${d.cookie}=${token}`,
        'x-requested-with': 'neon-cli',
      });
      assert.equal(marked.statusCode, 200, marked.body);

      const reg = await post(
        '/api/v1/auth/register',
        { 'x-refresh-token-transport': 'body' },
        newAccount(),
      );
      assert.equal(reg.statusCode, 201, reg.body);
      const body = reg.json<TokenResponse>();
      const refreshed = await post(
        '/api/v1/auth/refresh',
        { 'x-refresh-token-transport': 'body' },
        { refreshToken: body.refreshToken! },
      );
      assert.equal(refreshed.statusCode, 200, refreshed.body);
    });

    test('a cookie under the other name does not count', async () => {
      const token = await signIn();
      const other = d.cookie === REFRESH_COOKIE ? REFRESH_COOKIE_SECURE : REFRESH_COOKIE;
      const res = await post('/api/v1/auth/refresh', { origin, cookie: `${other}=${token}` });
      assert.deepEqual(problem(res), { status: 401, code: 'AUTH_REFRESH_INVALID' });
    });
  });
}
