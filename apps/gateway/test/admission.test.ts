import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@neon/kit';
import { createAdmission, type Admission } from '../src/auth/admission.js';
import { JwksCache } from '../src/auth/jwks.js';
import { Revocations } from '../src/auth/revocations.js';
import { TokenCache, TokenVerifier } from '../src/auth/verifier.js';
import { memoryRateLimiter, type RateLimiter } from '../src/limits/rate-limiter.js';

const logger = createLogger({ level: 'silent' });

function admission(apiLimiter: RateLimiter, authLimiter: RateLimiter = apiLimiter) {
  const jwks = new JwksCache(() => Promise.reject(new Error('no JWKS here')), {
    cooldownMs: 1000,
    logger,
  });
  return createAdmission({
    verifier: new TokenVerifier(jwks),
    tokenCache: new TokenCache(10, 60),
    revocations: new Revocations(60),
    accessRules: { issuer: 'i', audience: 'a', maxLifetimeSeconds: 900, leewaySeconds: 60 },
    publicRules: {
      issuer: 'i',
      audience: 'p',
      maxLifetimeSeconds: 900,
      leewaySeconds: 60,
      oauth: true,
    },
    authLimiter,
    apiLimiter,
    internalSecret: 's'.repeat(32),
    logger,
  });
}

const anonymous = { method: 'GET', headers: {} };
const login = { method: 'POST', headers: {} };

test('an in-memory limit is decided without waiting, and its state is in the answer headers', () => {
  const admit = admission(memoryRateLimiter(2, 60));
  const first = admit(anonymous, '/api/v1/users/a', '10.0.0.1', logger);
  assert.ok(!(first instanceof Promise));
  assert.equal(first.kind, 'proxy');
  assert.deepEqual(first.kind === 'proxy' && first.own.slice(0, 4), [
    'ratelimit-limit',
    '2',
    'ratelimit-remaining',
    '1',
  ]);
  void admit(anonymous, '/api/v1/users/a', '10.0.0.1', logger);
  const third = admit(anonymous, '/api/v1/users/a', '10.0.0.1', logger) as Admission;
  assert.equal(third.kind, 'problem');
  assert.equal(third.kind === 'problem' && third.code, 'RATE_LIMITED');
});

test('a limiter that fails (Redis down) lets requests through, whether it throws or rejects', async () => {
  const throwing: RateLimiter = {
    hit() {
      throw new Error('connection refused');
    },
  };
  const rejecting: RateLimiter = { hit: () => Promise.reject(new Error('connection refused')) };
  for (const limiter of [throwing, rejecting]) {
    const admit = admission(limiter);
    for (const [req, path] of [
      [anonymous, '/api/v1/users/a'],
      [login, '/api/v1/auth/login'],
    ] as const) {
      const a = await admit(req, path, '10.0.0.1', logger);
      assert.equal(a.kind, 'proxy', `${path} admitted`);
      assert.deepEqual(a.kind === 'proxy' && a.own, []);
    }
  }
});

test('a Redis-style limiter is awaited: its refusal still refuses', async () => {
  const refusing: RateLimiter = {
    hit: () => Promise.resolve({ allowed: false, limit: 5, remaining: 0, resetSeconds: 30 }),
  };
  const a = await admission(refusing)(login, '/api/v1/auth/login', '10.0.0.1', logger);
  assert.equal(a.kind, 'problem');
  assert.equal(a.kind === 'problem' && a.headers['retry-after'], '30');
});
