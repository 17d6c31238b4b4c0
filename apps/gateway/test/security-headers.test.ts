import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { securityHeaders } from '../src/proxy/security.js';
import {
  PUBLIC_URL,
  startGateway,
  startUpstream,
  variants,
  type GatewayHandle,
  type Upstream,
} from './harness.js';

// The values a browser enforces, written out: a test comparing with the
// constants in the code would follow any change to them.
const POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
  "media-src 'self' blob:; connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const SECURITY = {
  'content-security-policy': POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};
const CORS = {
  'access-control-allow-origin': PUBLIC_URL,
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers':
    'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, www-authenticate',
};

function pick(res: Response, names: string[]): Record<string, string | null> {
  return Object.fromEntries(names.map((n) => [n, res.headers.get(n)]));
}

test('HTTPS deployments add HSTS for a year, subdomains included; plain HTTP does not', () => {
  assert.deepEqual(securityHeaders(true), {
    ...SECURITY,
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
  });
  assert.deepEqual(securityHeaders(false), SECURITY);
});

for (const variant of variants) {
  describe(
    `security and CORS headers through the gateway with ${variant.name}`,
    { skip: variant.skip },
    () => {
      let live: Upstream;
      let identity: Upstream;
      let gw: GatewayHandle;
      before(async () => {
        identity = await startUpstream('identity', () => []);
        live = await startUpstream('live', () => []);
        gw = await startGateway(
          { IDENTITY_URL: identity.url, LIVE_URL: live.url },
          { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
        );
      });
      after(async () => {
        await gw.close();
        await Promise.all([identity.close(), live.close()]);
      });

      test('every answer carries the security headers exactly; our origin gets CORS, no other', async () => {
        for (const path of ['/api/v1/streams/h', '/api/v1/no/such/route']) {
          const ours = await fetch(`${gw.url}${path}`, { headers: { origin: PUBLIC_URL } });
          await ours.arrayBuffer();
          assert.deepEqual(pick(ours, Object.keys(SECURITY)), SECURITY, path);
          assert.deepEqual(pick(ours, Object.keys(CORS)), CORS, path);
          assert.match(ours.headers.get('vary') ?? '', /\bOrigin\b/i);
          assert.equal(ours.headers.get('strict-transport-security'), null);

          const other = await fetch(`${gw.url}${path}`, {
            headers: { origin: 'http://evil.test' },
          });
          await other.arrayBuffer();
          assert.deepEqual(pick(other, Object.keys(SECURITY)), SECURITY, path);
          for (const name of Object.keys(CORS)) assert.equal(other.headers.get(name), null, name);
        }
      });

      test('a preflight from our origin is granted these methods and headers, for ten minutes', async () => {
        const res = await fetch(`${gw.url}/api/v1/me`, {
          method: 'OPTIONS',
          headers: {
            origin: PUBLIC_URL,
            'access-control-request-method': 'DELETE',
            'access-control-request-headers': 'authorization, content-type',
          },
        });
        await res.arrayBuffer();
        assert.equal(res.status, 204);
        assert.deepEqual(
          pick(res, [
            ...Object.keys(CORS),
            'access-control-allow-methods',
            'access-control-allow-headers',
            'access-control-max-age',
          ]),
          {
            ...CORS,
            'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
            'access-control-allow-headers': 'authorization, content-type, x-request-id',
            'access-control-max-age': '600',
          },
        );
      });
    },
  );
}
