import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@neon/testing';
import { startGateway, startUpstream, type GatewayHandle, type Upstream } from './harness.js';

/** Which of the two replicas the next requests reached. */
async function reached(gw: GatewayHandle, ups: Upstream[], n = 6): Promise<Set<string>> {
  const before = ups.map((u) => u.seen.length);
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${gw.url}/api/v1/streams/x${i}`);
    await res.arrayBuffer();
  }
  return new Set(ups.filter((u, i) => u.seen.length > before[i]!).map((u) => u.name));
}

describe("the gateway's pool follows each replica's readiness to serve", () => {
  let a: Upstream;
  let b: Upstream;
  let gw: GatewayHandle;
  before(async () => {
    a = await startUpstream('live-a', () => []);
    b = await startUpstream('live-b', () => []);
    gw = await startGateway({ LIVE_URL: `${a.url},${b.url}`, GATEWAY_HEALTH_INTERVAL_MS: '100' });
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });

  test('a replica that loses its engines leaves the pool, and comes back on its own', async () => {
    assert.deepEqual(await reached(gw, [a, b]), new Set(['live-a', 'live-b']));
    a.readiness.set('database', () => Promise.reject(new Error('connection refused')));
    await waitFor(
      () => gw.lines.some((l) => l.includes('upstream replica ejected') && l.includes(a.url)),
      { timeoutMs: 5000, what: 'live-a ejected' },
    );
    assert.deepEqual(await reached(gw, [a, b]), new Set(['live-b']));
    a.readiness.delete('database');
    await waitFor(async () => (await reached(gw, [a, b])).has('live-a'), {
      timeoutMs: 5000,
      what: 'live-a back in the pool',
    });
  });

  test('a replica that only takes no new work (full) keeps serving what it has', async () => {
    b.admission.set('capacity', () => Promise.reject(new Error('full')));
    try {
      assert.equal((await fetch(`${b.url}/readyz`)).status, 503);
      // Several health rounds: it is never ejected.
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(await reached(gw, [a, b]), new Set(['live-a', 'live-b']));
    } finally {
      b.admission.delete('capacity');
    }
  });
});
