import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamKeyResponse } from '@neon/contracts';
import { publishScript } from '@neon/rtmp/testing';
import { generateStreamKey } from '../src/stream-keys/stream-key.js';
import { PublishBackoff } from '../src/ingest/publish-backoff.js';
import { variants, type Harness } from './harness.js';
import { openPeer, waitForStatus, type StatusReply } from './rtmp-peer.js';

describe('publish back-off (clock driven)', () => {
  function setup(maxWaitMs = 300_000, maxEntries?: number) {
    const clock = { t: 1_000_000 };
    const b = new PublishBackoff({
      maxWaitMs,
      ...(maxEntries ? { maxEntries } : {}),
      now: () => clock.t,
    });
    return { b, clock };
  }

  it('five wrong keys a minute are free; the sixth imposes 10 s, then 20, 40 … up to the maximum', () => {
    const { b, clock } = setup(60_000);
    for (let i = 0; i < 5; i++) {
      assert.equal(b.failed('198.51.100.1'), 0, `failure ${i + 1}`);
      assert.equal(b.waitMs('198.51.100.1'), 0);
    }
    assert.equal(b.failed('198.51.100.1'), 10_000);
    assert.equal(b.waitMs('198.51.100.1'), 10_000);
    clock.t += 9_999;
    assert.equal(b.waitMs('198.51.100.1'), 1);
    clock.t += 1;
    assert.equal(b.waitMs('198.51.100.1'), 0, 'the wait is over');
    const waits = [];
    for (let i = 0; i < 4; i++) {
      const w = b.failed('198.51.100.1');
      waits.push(w);
      clock.t += w;
    }
    assert.deepEqual(waits, [20_000, 40_000, 60_000, 60_000]);
  });

  it('a quiet minute after the wait starts the count afresh; spread-out failures are never slowed', () => {
    const { b, clock } = setup();
    for (let i = 0; i < 6; i++) b.failed('198.51.100.2');
    clock.t += 10_000 + 59_999;
    assert.equal(b.failed('198.51.100.2'), 20_000, 'not quiet long enough: the wait doubles');
    clock.t += 20_000 + 60_000;
    for (let i = 0; i < 5; i++) assert.equal(b.failed('198.51.100.2'), 0);
    assert.equal(b.failed('198.51.100.2'), 10_000, 'back to the first wait');

    // One wrong key every 15 s: four a minute, for an hour.
    for (let i = 0; i < 240; i++) {
      clock.t += 15_000;
      assert.equal(b.failed('198.51.100.3'), 0, `at ${i}`);
    }
  });

  it("one address's failures do not slow another; an IPv6 /64 is one address", () => {
    const { b } = setup();
    for (let i = 0; i < 6; i++) b.failed('2001:db8:5:6::1');
    assert.ok(b.waitMs('2001:db8:5:6::1') > 0);
    assert.ok(b.waitMs('2001:db8:5:6:ffff::9') > 0, 'the same /64');
    assert.equal(b.waitMs('2001:db8:5:7::1'), 0, 'another /64');
    assert.equal(b.waitMs('198.51.100.9'), 0);
  });

  it('the table is bounded: the least recently seen address is forgotten first', () => {
    const { b } = setup(300_000, 3);
    for (let i = 0; i < 6; i++) b.failed('10.0.0.1');
    b.failed('10.0.0.2');
    b.failed('10.0.0.3');
    b.failed('10.0.0.1'); // seen again: now the most recent
    b.failed('10.0.0.4');
    assert.equal(b.size, 3);
    assert.ok(b.waitMs('10.0.0.1') > 0, 'still remembered');
    const big = setup(300_000).b;
    for (let i = 0; i < 10_050; i++)
      big.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    assert.equal(big.size, 10_000);
  });

  it('a maximum of 0 turns it off', () => {
    const { b } = setup(0);
    for (let i = 0; i < 50; i++) assert.equal(b.failed('198.51.100.4'), 0);
    assert.equal(b.waitMs('198.51.100.4'), 0);
  });
});

// Over RTMP, each test from its own loopback address.
const variant = variants()[0]!;
describe('publish back-off over RTMP', () => {
  let h: Harness;
  before(async () => {
    h = await variant.open({ RTMP_PUBLISH_BACKOFF_MAX_SECONDS: '2' });
  });
  after(() => h.close());

  async function streamKey(): Promise<string> {
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream-key',
      headers: h.as(h.user()),
    });
    assert.equal(res.statusCode, 200);
    return res.json<StreamKeyResponse>().streamKey;
  }

  async function publish(name: string, from: string): Promise<StatusReply | undefined> {
    const peer = await openPeer(h.live.rtmpPort()!, from);
    try {
      peer.socket.write(publishScript({ publishName: name, frames: 0, unpublish: false }).bytes);
      return await waitForStatus(peer, (s) => s.code.startsWith('NetStream.Publish.'));
    } finally {
      peer.socket.destroy();
    }
  }

  it('after five wrong keys and a sixth, even the right key waits; another address does not', async () => {
    const attacker = '127.0.0.61';
    for (let i = 0; i < 6; i++) {
      const r = await publish(generateStreamKey(), attacker);
      assert.equal(r?.code, 'NetStream.Publish.BadName', `wrong key ${i + 1}`);
    }
    const key = await streamKey();
    const refused = await publish(key, attacker);
    assert.equal(refused?.code, 'NetStream.Publish.Denied');
    assert.match(refused?.description ?? '', /LIVE_PUBLISH_BACKED_OFF/);
    assert.match(refused?.description ?? '', /try again in \d+ s/);

    const other = await publish(await streamKey(), '127.0.0.62');
    assert.equal(other?.code, 'NetStream.Publish.Start', 'another address publishes at once');

    // Once the wait (2 s here) is over, the right key works again from the same address.
    let last: StatusReply | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      last = await publish(key, attacker);
      if (last?.code !== 'NetStream.Publish.Denied') break;
      await sleep(250);
    }
    assert.equal(last?.code, 'NetStream.Publish.Start');
  });
});
