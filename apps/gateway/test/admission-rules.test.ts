import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { API_AUDIENCE, ClientHeaders, PUBLIC_API_AUDIENCE } from '@neon/contracts';
import type { Logger } from '@neon/kit';
import { createAdmission, type Admission, type Admit } from '../src/auth/admission.js';
import { JwksCache } from '../src/auth/jwks.js';
import { Revocations } from '../src/auth/revocations.js';
import { TokenCache, TokenVerifier, type VerifiedToken } from '../src/auth/verifier.js';
import { memoryRateLimiter, type RateLimiter } from '../src/limits/rate-limiter.js';
import { PUBLIC_URL, captureLogger, makeKeys, mintToken, type Keys } from './harness.js';

// Every decision the gateway takes before a request goes upstream, without
// HTTP: which requests count against the brute-force limit and under which
// key, what a bad, revoked or missing token gets, who may reach /admin/, the
// identity an upstream is told, and the rate-limit figures a client sees.

const SECRET = 's'.repeat(32);
const IP = '198.51.100.7';
const ALICE = '0190f000-0000-7000-8000-000000000001';

/** Every key a limiter was asked about, and its own verdicts (a limit of `limit` per key). */
function countingLimiter(limit: number): RateLimiter & { keys: string[] } {
  const inner = memoryRateLimiter(limit, 60);
  const keys: string[] = [];
  return {
    keys,
    hit(key) {
      keys.push(key);
      return inner.hit(key);
    },
    close: () => inner.close?.(),
  };
}

/** The same counting, answered later (as the Redis limiter does). */
function awaitedLimiter(limit: number): RateLimiter & { keys: string[] } {
  const inner = countingLimiter(limit);
  return {
    keys: inner.keys,
    hit: (key) => Promise.resolve(inner.hit(key)),
    close: () => inner.close?.(),
  };
}

/** The lines the admission logged for one request, as `message {fields}`. */
function recorder(): { log: Logger; lines: string[] } {
  const { logger, lines: raw } = captureLogger();
  const lines: string[] = [];
  return {
    log: logger,
    get lines() {
      lines.length = 0;
      for (const l of raw) {
        const { msg, reason } = JSON.parse(l) as { msg: string; reason?: string };
        lines.push(`${msg} ${JSON.stringify({ reason })}`);
      }
      return lines;
    },
  };
}

let keys: Keys;
before(async () => {
  keys = await makeKeys();
});

interface Setup {
  admit: Admit;
  cache: TokenCache;
  revocations: Revocations;
  auth: RateLimiter & { keys: string[] };
  api: (RateLimiter & { keys: string[] }) | null;
}

function setup(o: { authLimit?: number; apiLimit?: number | null; awaited?: boolean } = {}): Setup {
  const jwks = new JwksCache(async () => ({ keys: [keys.publicJwk] }), {
    cooldownMs: 0,
    logger: captureLogger().logger,
  });
  const make = o.awaited ? awaitedLimiter : countingLimiter;
  const auth = make(o.authLimit ?? 100);
  const api = o.apiLimit === null ? null : make(o.apiLimit ?? 100);
  const cache = new TokenCache(100, 30);
  const revocations = new Revocations(30);
  const admit = createAdmission({
    verifier: new TokenVerifier(jwks),
    tokenCache: cache,
    revocations,
    accessRules: {
      issuer: PUBLIC_URL,
      audience: API_AUDIENCE,
      maxLifetimeSeconds: 900,
      leewaySeconds: 30,
    },
    publicRules: {
      issuer: PUBLIC_URL,
      audience: PUBLIC_API_AUDIENCE,
      maxLifetimeSeconds: 900,
      leewaySeconds: 30,
      oauth: true,
    },
    authLimiter: auth,
    apiLimiter: api,
    internalSecret: SECRET,
    logger: captureLogger().logger,
  });
  return { admit, cache, revocations, auth, api };
}

const get = (authorization?: string) => ({
  method: 'GET',
  headers: authorization === undefined ? {} : { authorization },
});
const post = (authorization?: string) => ({ ...get(authorization), method: 'POST' });

const problem = (a: Admission) => {
  assert.equal(a.kind, 'problem', JSON.stringify(a));
  return a;
};
const proxied = (a: Admission) => {
  assert.equal(a.kind, 'proxy', JSON.stringify(a));
  return a;
};

describe('the brute-force limit on sign-in', () => {
  test('counts POSTs to register, login and refresh, each per endpoint and address', async () => {
    const s = setup();
    for (const path of ['/api/v1/auth/register', '/api/v1/auth/login', '/api/v1/auth/refresh'])
      proxied(await s.admit(post(), path, IP, recorder().log));
    proxied(await s.admit(post(), '/api/v1/auth/login', '203.0.113.9', recorder().log));
    assert.deepEqual(s.auth.keys, [
      `/api/v1/auth/register:${IP}`,
      `/api/v1/auth/login:${IP}`,
      `/api/v1/auth/refresh:${IP}`,
      '/api/v1/auth/login:203.0.113.9',
    ]);
  });

  test('counts second factors and the mailed links (asking for one and using one) the same way', async () => {
    const s = setup();
    const paths = [
      '/api/v1/auth/mfa',
      '/api/v1/auth/step-up',
      '/api/v1/auth/password-reset',
      '/api/v1/auth/password-reset/confirm',
      '/api/v1/auth/verify-email',
    ];
    for (const path of paths) proxied(await s.admit(post(), path, IP, recorder().log));
    assert.deepEqual(
      s.auth.keys,
      paths.map((p) => `${p}:${IP}`),
    );
  });

  test('a path spelled differently is the same endpoint; other methods and paths are not counted', async () => {
    const s = setup();
    proxied(await s.admit(post(), '/API/v1//auth/Login/', IP, recorder().log));
    proxied(await s.admit(post(), '/api/v1/auth/login;x=1', IP, recorder().log));
    assert.deepEqual(s.auth.keys, [`/api/v1/auth/login:${IP}`, `/api/v1/auth/login:${IP}`]);
    for (const [req, path] of [
      [get(), '/api/v1/auth/login'],
      [{ headers: {} }, '/api/v1/auth/login'],
      [{ method: 'PUT', headers: {} }, '/api/v1/auth/refresh'],
      [post(), '/api/v1/auth/logout'],
      [post(), '/api/v1/auth/login/x'],
    ] as const)
      proxied(await s.admit(req, path, IP, recorder().log));
    assert.equal(s.auth.keys.length, 2);
  });

  test('over the limit: 429 with the limit, nothing remaining and when to retry', async () => {
    for (const awaited of [false, true]) {
      const s = setup({ authLimit: 2, awaited });
      const first = proxied(await s.admit(post(), '/api/v1/auth/login', IP, recorder().log));
      assert.deepEqual(first.own.slice(0, 6), [
        'ratelimit-limit',
        '2',
        'ratelimit-remaining',
        '1',
        'ratelimit-reset',
        '60',
      ]);
      proxied(await s.admit(post(), '/api/v1/auth/login', IP, recorder().log));
      const refused = problem(await s.admit(post(), '/api/v1/auth/login', IP, recorder().log));
      assert.deepEqual(refused, {
        kind: 'problem',
        code: 'RATE_LIMITED',
        detail: 'Too many attempts; try again later.',
        headers: {
          'ratelimit-limit': '2',
          'ratelimit-remaining': '0',
          'ratelimit-reset': '60',
          'retry-after': '60',
        },
      });
      // A brute force on login does not lock the same address out of refreshing.
      proxied(await s.admit(post(), '/api/v1/auth/refresh', IP, recorder().log));
    }
  });

  test('an in-memory limit answers without waiting', () => {
    const s = setup();
    const a = s.admit(post(), '/api/v1/auth/login', IP, recorder().log);
    assert.ok(!(a instanceof Promise));
    proxied(a);
  });
});

describe('the caller', () => {
  test('no token, or another scheme: anonymous, with only the internal secret', async () => {
    const s = setup({ apiLimit: null });
    for (const authorization of [
      undefined,
      '',
      'Basic YWxpY2U6eA==',
      'Bearer',
      'Token bearer x.y.z',
    ]) {
      const a = proxied(await s.admit(get(authorization), '/api/v1/me', IP, recorder().log));
      assert.equal(a.client, null);
      assert.deepEqual(a.identity, { [ClientHeaders.internalToken]: SECRET });
      assert.deepEqual(a.own, []);
    }
  });

  test('a bearer token (any case of the scheme, spaces around the token) is the caller', async () => {
    const s = setup({ apiLimit: null });
    const token = await mintToken(keys, { roles: ['user', 'admin'], stepUpAt: null });
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER  ${token} `]) {
      const a = proxied(await s.admit(get(authorization), '/api/v1/me', IP, recorder().log));
      assert.equal(a.client?.sub, ALICE);
      assert.deepEqual(a.identity, {
        [ClientHeaders.internalToken]: SECRET,
        [ClientHeaders.id]: ALICE,
        [ClientHeaders.username]: 'alice',
        [ClientHeaders.roles]: 'user,admin',
      });
    }
  });

  test('a token with a session passes the session on', async () => {
    const s = setup({ apiLimit: null });
    const verified: VerifiedToken = {
      sub: ALICE,
      username: 'alice',
      roles: ['user'],
      jti: 'j',
      sid: 'sess-1',
      sua: null,
      aud: API_AUDIENCE,
      clientId: null,
      scope: null,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 900,
    };
    // The cache holds what was verified before: its entry is the caller, the token is not checked again.
    s.cache.set('cached-token', verified);
    const a = s.admit(get('Bearer cached-token'), '/api/v1/me', IP, recorder().log);
    assert.ok(!(a instanceof Promise));
    assert.deepEqual(proxied(a).identity, {
      [ClientHeaders.internalToken]: SECRET,
      [ClientHeaders.id]: ALICE,
      [ClientHeaders.username]: 'alice',
      [ClientHeaders.roles]: 'user',
      [ClientHeaders.session]: 'sess-1',
    });
  });

  test('a verified token is cached: the first waits for the keys, later ones do not', async () => {
    const s = setup({ apiLimit: null });
    const token = await mintToken(keys);
    const first = s.admit(get(`Bearer ${token}`), '/api/v1/me', IP, recorder().log);
    assert.ok(first instanceof Promise);
    proxied(await first);
    assert.equal(s.cache.get(token)?.sub, ALICE);
    // Another token of the same key: verified at once, and cached too.
    const other = await mintToken(keys, { sub: 'bob-id', username: 'bob' });
    const second = s.admit(get(`Bearer ${other}`), '/api/v1/me', IP, recorder().log);
    assert.ok(!(second instanceof Promise));
    assert.equal(proxied(second).client?.username, 'bob');
    assert.equal(s.cache.get(other)?.sub, 'bob-id');
  });

  test('a bad token: 401 with a Bearer challenge and the reason logged, whether its key is known or not', async () => {
    const s = setup({ apiLimit: null });
    const expired = await mintToken(keys, { issuedAt: Math.floor(Date.now() / 1000) - 3600 });
    const forged = `${(await mintToken(keys)).slice(0, -4)}AAAA`;
    const unknownKid = await mintToken(keys, { kid: 'nobody' });
    for (const [token, code, reason] of [
      [expired, 'AUTH_TOKEN_EXPIRED', 'expired'],
      [unknownKid, 'AUTH_TOKEN_INVALID', 'unknown kid'],
      [forged, 'AUTH_TOKEN_INVALID', 'bad signature'],
      ['not-a-jwt', 'AUTH_TOKEN_INVALID', 'not a compact JWS'],
    ] as const) {
      const r = recorder();
      const a = problem(await s.admit(get(`Bearer ${token}`), '/api/v1/me', IP, r.log));
      assert.deepEqual(a, {
        kind: 'problem',
        code,
        detail: 'The access token is not valid.',
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
      assert.deepEqual(r.lines, [`access token rejected {"reason":"${reason}"}`]);
    }
  });

  test('a revoked token: 401 saying so, even from the cache', async () => {
    const s = setup({ apiLimit: null });
    const token = await mintToken(keys, { issuedAt: Math.floor(Date.now() / 1000) - 5 });
    proxied(await s.admit(get(`Bearer ${token}`), '/api/v1/me', IP, recorder().log));
    s.revocations.revoke(ALICE, Date.now());
    const r = recorder();
    const a = problem(await s.admit(get(`Bearer ${token}`), '/api/v1/me', IP, r.log));
    assert.deepEqual(a, {
      kind: 'problem',
      code: 'AUTH_TOKEN_INVALID',
      detail: 'The access token was revoked.',
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    });
    assert.deepEqual(r.lines, ['access token rejected {"reason":"revoked"}']);
    // An ended session refuses the tokens naming it.
    const withSession: VerifiedToken = {
      sub: 'carol-id',
      username: 'carol',
      roles: ['user'],
      jti: 'j',
      sid: 'sess-9',
      sua: null,
      aud: API_AUDIENCE,
      clientId: null,
      scope: null,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 900,
    };
    s.cache.set('carol-token', withSession);
    proxied(await s.admit(get('Bearer carol-token'), '/api/v1/me', IP, recorder().log));
    s.revocations.sessionsEnded(['sess-9'], Date.now());
    assert.equal(
      problem(await s.admit(get('Bearer carol-token'), '/api/v1/me', IP, recorder().log)).detail,
      'The access token was revoked.',
    );
  });
});

describe('the admin surface', () => {
  test('anonymous: 401 asking to sign in; a user without the role: 403; an admin passes', async () => {
    const s = setup({ apiLimit: null });
    assert.deepEqual(await s.admit(get(), '/admin/users', IP, recorder().log), {
      kind: 'problem',
      code: 'AUTH_REQUIRED',
      detail: 'Sign in to do this.',
      headers: { 'www-authenticate': 'Bearer' },
    });
    const user = await mintToken(keys, { roles: ['user', 'moderator'] });
    assert.deepEqual(await s.admit(get(`Bearer ${user}`), '/admin/users', IP, recorder().log), {
      kind: 'problem',
      code: 'FORBIDDEN',
      detail: 'Requires the admin role.',
      headers: {},
    });
    const admin = await mintToken(keys, { roles: ['user', 'admin'] });
    assert.equal(
      proxied(await s.admit(get(`Bearer ${admin}`), '/admin/users', IP, recorder().log)).client
        ?.username,
      'alice',
    );
    // Only the /admin/ prefix: a path that merely contains it is not the admin surface.
    proxied(await s.admit(get(), '/api/v1/admin/x', IP, recorder().log));
    proxied(await s.admit(get(), '/administrator', IP, recorder().log));
  });
});

describe('the per-user limit on the API', () => {
  test('counts /api/, /public/ and /admin/ per user when signed in, per address when not', async () => {
    const s = setup();
    const token = await mintToken(keys, { roles: ['admin'] });
    proxied(await s.admit(get(), '/api/v1/me', IP, recorder().log));
    proxied(await s.admit(get(`Bearer ${token}`), '/public/x', IP, recorder().log));
    proxied(await s.admit(get(`Bearer ${token}`), '/admin/x', IP, recorder().log));
    assert.deepEqual(s.api?.keys, [`ip:${IP}`, `u:${ALICE}`, `u:${ALICE}`]);
    // The web app and other paths are not counted.
    for (const path of ['/', '/channels/alice', '/apix/v1', '/x/api/v1', '/hls/a.m3u8'])
      assert.deepEqual(proxied(await s.admit(get(), path, IP, recorder().log)).own, []);
    assert.equal(s.api?.keys.length, 3);
  });

  test('the figures go on the answer; over the limit: 429 saying to slow down', async () => {
    for (const awaited of [false, true]) {
      const s = setup({ apiLimit: 1, awaited });
      assert.deepEqual(proxied(await s.admit(get(), '/api/v1/me', IP, recorder().log)).own, [
        'ratelimit-limit',
        '1',
        'ratelimit-remaining',
        '0',
        'ratelimit-reset',
        '60',
      ]);
      assert.deepEqual(await s.admit(get(), '/api/v1/me', IP, recorder().log), {
        kind: 'problem',
        code: 'RATE_LIMITED',
        detail: 'Too many requests; slow down.',
        headers: {
          'ratelimit-limit': '1',
          'ratelimit-remaining': '0',
          'ratelimit-reset': '60',
          'retry-after': '60',
        },
      });
    }
  });

  test('sign-in and API figures both go on the answer, in that order', async () => {
    const s = setup({ authLimit: 5, apiLimit: 9 });
    assert.deepEqual(proxied(await s.admit(post(), '/api/v1/auth/login', IP, recorder().log)).own, [
      'ratelimit-limit',
      '5',
      'ratelimit-remaining',
      '4',
      'ratelimit-reset',
      '60',
      'ratelimit-limit',
      '9',
      'ratelimit-remaining',
      '8',
      'ratelimit-reset',
      '60',
    ]);
  });
});
