import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep, waitFor } from '@neon/testing';
import {
  makeKeys,
  mintToken,
  problem,
  startGateway,
  startUpstream,
  variants,
  type GatewayHandle,
  type Keys,
  type Upstream,
} from './harness.js';

// Rate limits, load balancing over replicas, and the gateway's own lifecycle.
for (const variant of variants) {
  describe(`gateway limits with ${variant.name}`, { skip: variant.skip }, () => {
    let keys: Keys;
    let identity: Upstream;
    let gw: GatewayHandle;
    before(async () => {
      keys = await makeKeys();
      identity = await startUpstream('identity', () => [keys.publicJwk]);
      gw = await startGateway(
        {
          IDENTITY_URL: identity.url,
          GATEWAY_AUTH_RATE_LIMIT: '3',
          GATEWAY_API_RATE_LIMIT: '5',
        },
        { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
      );
    });
    after(async () => {
      await gw.close();
      await identity.close();
    });

    test('login brute force hits 429 with Retry-After and RateLimit headers', async () => {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${gw.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: 'alice', password: `guess-${i}` }),
        });
        statuses.push(last.status);
        if (last.status !== 429) await last.arrayBuffer();
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.equal((await problem(last!)).code, 'RATE_LIMITED');
      assert.ok(Number(last!.headers.get('retry-after')) >= 1);
      assert.equal(last!.headers.get('ratelimit-limit'), '3');
      assert.equal(last!.headers.get('ratelimit-remaining'), '0');
      assert.ok(Number(last!.headers.get('ratelimit-reset')) >= 1);
    });

    test('without trusted proxies a forged X-Forwarded-For does not escape the limit', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${gw.url}/api/v1/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` },
          body: '{}',
        });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      // Four attempts from four claimed addresses, one real one: the budget of 3 is still one budget.
      assert.ok(statuses.filter((st) => st === 200).length <= 3, String(statuses));
      assert.equal(statuses.at(-1), 429);
    });

    test('behind a trusted proxy the limit counts per client, not per proxy', async () => {
      // The test's connections come from loopback: here, that is the proxy in front.
      const behind = await startGateway(
        {
          IDENTITY_URL: identity.url,
          GATEWAY_AUTH_RATE_LIMIT: '2',
          GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1',
        },
        { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
      );
      try {
        const login = async (forwardedFor: string) => {
          const res = await fetch(`${behind.url}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
            body: JSON.stringify({ login: 'alice', password: 'guess' }),
          });
          await res.arrayBuffer();
          return res.status;
        };
        // What the client claimed, then the client the balancer saw: the claim is not believed.
        assert.deepEqual(
          [
            await login('198.51.100.1, 203.0.113.7'),
            await login('198.51.100.2, 203.0.113.7'),
            await login('198.51.100.3, 203.0.113.7'),
          ],
          [200, 200, 429],
        );
        // Another client behind the same balancer is not locked out; trusted hops are walked past.
        assert.equal(await login('203.0.113.8, 10.1.2.3'), 200);
        const seen = identity.seen.at(-1)!.headers;
        assert.equal(seen['x-client-ip'], '203.0.113.8');
        // X-Forwarded-For grows by the hop that connected, as at any proxy.
        assert.equal(seen['x-forwarded-for'], '203.0.113.8, 10.1.2.3, 127.0.0.1');
        // The fast path reads the client the same way.
        const get = await fetch(`${behind.url}/api/v1/users/alice`, {
          headers: { 'x-forwarded-for': '203.0.113.9', 'x-client-ip': '1.2.3.4' },
        });
        assert.equal(get.status, 200);
        await get.arrayBuffer();
        assert.equal(identity.seen.at(-1)!.headers['x-client-ip'], '203.0.113.9');
        assert.equal(identity.seen.at(-1)!.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
      } finally {
        await behind.close();
      }
    });

    test('from a peer that is not a trusted proxy, X-Forwarded-For is not believed on any path', async () => {
      const elsewhere = await startGateway(
        {
          IDENTITY_URL: identity.url,
          GATEWAY_AUTH_RATE_LIMIT: '2',
          GATEWAY_API_RATE_LIMIT: '5',
          GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8',
        },
        { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
      );
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${elsewhere.url}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${i}` },
            body: '{}',
          });
          statuses.push(res.status);
          await res.arrayBuffer();
        }
        // Limited by its real address, whatever it claims to be.
        assert.deepEqual(statuses, [200, 200, 429]);
        const gets: number[] = [];
        for (let i = 0; i < 4; i++) {
          const res = await fetch(`${elsewhere.url}/api/v1/users/alice`, {
            headers: { 'x-forwarded-for': `198.51.100.${i}` },
          });
          gets.push(res.status);
          await res.arrayBuffer();
        }
        // One API budget of 5 for the one real address, the two admitted logins included.
        assert.deepEqual(gets, [200, 200, 200, 429]);
        const seen = identity.seen.at(-1)!.headers;
        // Upstreams see the real address, and no forged hop.
        assert.equal(seen['x-client-ip'], '127.0.0.1');
        assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      } finally {
        await elsewhere.close();
      }
    });

    test('the API limit counts per user, so one user cannot starve another', async () => {
      const alice = await mintToken(keys, { sub: 'alice-id' });
      const bob = await mintToken(keys, { sub: 'bob-id' });
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${gw.url}/api/v1/users/x`, {
          headers: { authorization: `Bearer ${alice}` },
        });
        codes.push(res.status);
        await res.arrayBuffer();
      }
      assert.deepEqual(codes, [200, 200, 200, 200, 200, 429]);
      const other = await fetch(`${gw.url}/api/v1/users/x`, {
        headers: { authorization: `Bearer ${bob}` },
      });
      assert.equal(other.status, 200);
      assert.equal(other.headers.get('ratelimit-remaining'), '4');
    });

    if (variant.redisUrl)
      test('gateway replicas on one Redis share one budget', async () => {
        const second = await startGateway(
          {
            IDENTITY_URL: identity.url,
            GATEWAY_AUTH_RATE_LIMIT: '3',
            GATEWAY_REDIS_PREFIX: gw.prefix,
          },
          { redisUrl: variant.redisUrl, natsUrl: variant.natsUrl },
        );
        try {
          const res = await fetch(`${second.url}/api/v1/auth/login`, {
            method: 'POST',
            body: '{}',
          });
          assert.equal(res.status, 429, "the first gateway already used this IP's attempts");
          assert.equal((await problem(res)).code, 'RATE_LIMITED');
        } finally {
          await second.close();
        }
      });
  });
}

describe('gateway load balancing', () => {
  let keys: Keys;
  let a: Upstream;
  let b: Upstream;
  let gw: GatewayHandle;
  before(async () => {
    keys = await makeKeys();
    a = await startUpstream('channels-a', () => [keys.publicJwk]);
    b = await startUpstream('channels-b', () => [keys.publicJwk]);
    gw = await startGateway({ CHANNELS_URL: `${a.url},${b.url}`, IDENTITY_URL: a.url });
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close().catch(() => undefined);
  });

  test('two replicas share the load; killing one mid-run loses no request', async () => {
    const served: string[] = [];
    const token = await mintToken(keys);
    for (let i = 0; i < 60; i++) {
      if (i === 20) await b.close();
      const res = await fetch(`${gw.url}/api/v1/channels/c${i}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200, `request ${i}`);
      served.push(((await res.json()) as { upstream: string }).upstream);
    }
    assert.ok(served.slice(0, 20).includes('channels-b'), 'both replicas served before the kill');
    assert.ok(served.slice(0, 20).includes('channels-a'));
    assert.ok(served.slice(20).every((s) => s === 'channels-a'));
    const replicas = async (state: string) => {
      const { values } = await gw.service.server.metrics
        .getSingleMetric('gateway_upstream_replicas')!
        .get();
      return values.find((v) => v.labels.upstream === 'channels' && v.labels.state === state)
        ?.value;
    };
    assert.equal(await replicas('healthy'), 1, 'the dead replica left the pool');
    assert.equal(await replicas('ejected'), 1);
  });

  test('once ejected, a dead replica receives nothing, non-idempotent requests included', async () => {
    await waitFor(async () => {
      const r = await fetch(`${gw.url}/api/v1/channels/p`, { method: 'POST', body: '{}' });
      await r.arrayBuffer();
      return r.status === 200;
    });
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${gw.url}/api/v1/channels/p`, { method: 'POST', body: '{}' });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
  });
});

describe('gateway trusted proxies configuration', () => {
  test('a bad GATEWAY_TRUSTED_PROXIES, or the replaced GATEWAY_TRUSTED_PROXY_HOPS, fails the start', async () => {
    await assert.rejects(
      startGateway({ GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, not-an-address' }),
      /GATEWAY_TRUSTED_PROXIES/,
    );
    await assert.rejects(
      startGateway({ GATEWAY_TRUSTED_PROXY_HOPS: '1' }),
      /GATEWAY_TRUSTED_PROXY_HOPS is replaced by GATEWAY_TRUSTED_PROXIES/,
    );
  });
});

describe('gateway lifecycle', () => {
  test('close stops health checks and JWKS fetches without reporting the upstreams down', async () => {
    const keys = await makeKeys();
    const up = await startUpstream('identity', () => [keys.publicJwk]);
    try {
      for (let round = 0; round < 2; round++) {
        // start() sends the first checks and the JWKS fetch; closing at once catches them in flight.
        const gw = await startGateway({
          IDENTITY_URL: up.url,
          CHANNELS_URL: up.url,
          GATEWAY_HEALTH_INTERVAL_MS: '100',
        });
        await gw.close();
        const closedAt = gw.lines.length;
        await sleep(300);
        assert.deepEqual(gw.lines.slice(closedAt), [], 'the gateway logged after close');
        const down = gw.lines.filter((l) => /replica ejected|JWKS fetch failed/.test(l));
        assert.deepEqual(down, [], 'a healthy upstream was reported down on close');
      }
    } finally {
      await up.close();
    }
  });
});
