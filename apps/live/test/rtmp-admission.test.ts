import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamKeyResponse } from '@neon/contracts';
import { handshake, publishScript } from '@neon/rtmp/testing';
import { PendingAdmission, addressGroup } from '../src/ingest/admission.js';
import { variants, type Harness } from './harness.js';
import { closedWithin, openPeer, waitFor, waitForStatus, type RtmpPeer } from './rtmp-peer.js';

describe('address groups', () => {
  it('IPv4 counts per address, IPv4-mapped IPv6 as the IPv4 address', () => {
    assert.equal(addressGroup('203.0.113.7'), '203.0.113.7');
    assert.equal(addressGroup('::ffff:203.0.113.7'), '203.0.113.7');
    assert.notEqual(addressGroup('203.0.113.7'), addressGroup('203.0.113.8'));
  });

  it('IPv6 counts per /64, however the address is written', () => {
    const g = addressGroup('2001:db8:1:2::1');
    for (const same of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0db8:0001:0002:0:0:0:9',
      '2001:DB8:1:2::abcd',
      '2001:db8:1:2::1%eth0',
      '2001:db8:1:2::192.0.2.1',
    ]) {
      assert.equal(addressGroup(same), g, same);
    }
    assert.notEqual(addressGroup('2001:db8:1:3::1'), g, 'the next /64');
    assert.notEqual(addressGroup('2001:db8:2:2::1'), g);
    assert.equal(addressGroup('::1'), addressGroup('::2'));
  });
});

describe('pending admission', () => {
  it('refuses the connection over the per-address cap and frees the place on release', () => {
    const a = new PendingAdmission({ perAddress: 2, total: 10 });
    const t1 = a.admit('2001:db8::1');
    const t2 = a.admit('2001:db8::2');
    assert.ok(t1.ok && t2.ok);
    assert.deepEqual(a.admit('2001:db8::3'), { ok: false, reason: 'address' }, 'same /64');
    assert.ok(a.admit('2001:db8:0:1::1').ok, 'another /64');
    t1.ticket.release();
    t1.ticket.release(); // twice: one place, not two
    assert.ok(a.admit('2001:db8::3').ok);
    assert.deepEqual(a.admit('2001:db8::4'), { ok: false, reason: 'address' });
  });

  it('refuses over the global cap, whatever the address', () => {
    const a = new PendingAdmission({ perAddress: 4, total: 3 });
    const tickets = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => a.admit(ip));
    assert.ok(tickets.every((t) => t.ok));
    assert.deepEqual(a.admit('10.0.0.4'), { ok: false, reason: 'total' });
    const first = tickets[0]!;
    if (first.ok) first.ticket.release();
    assert.ok(a.admit('10.0.0.4').ok);
    assert.equal(a.pending, 3);
  });
});

/** True when the server answered the handshake (S0+S1), false when it closed at once. */
async function served(peer: RtmpPeer): Promise<boolean> {
  peer.socket.write(handshake().subarray(0, 1537));
  return waitFor(peer, () => Buffer.concat(peer.received).length >= 1537, 5000);
}

// Every peer here comes from its own loopback address (127.0.0.x), so the
// caps of one test are not used up by another.
const variant = variants()[0]!;
describe('RTMP connections that have not published', () => {
  let h: Harness;
  const peers: RtmpPeer[] = [];
  before(async () => {
    h = await variant.open({
      RTMP_MAX_PENDING_PER_ADDRESS: '3',
      RTMP_MAX_PENDING_CONNECTIONS: '6',
    });
  });
  after(async () => {
    for (const p of peers) p.socket.destroy();
    await h.close();
  });

  async function peer(address: string): Promise<RtmpPeer> {
    const p = await openPeer(h.live.rtmpPort()!, address);
    peers.push(p);
    return p;
  }

  /**
   * The server sees a close a moment after the peer does: until then a new
   * connection is still refused (and does not count), so try a few times.
   */
  async function servedOnceClosed(address: string): Promise<boolean> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const p = await peer(address);
      if (await served(p)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  async function streamKey(): Promise<string> {
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream-key',
      headers: h.as(h.user()),
    });
    assert.equal(res.statusCode, 200);
    return res.json<StreamKeyResponse>().streamKey;
  }

  it('one address may hold three; the fourth is closed; a publishing one no longer counts', async () => {
    const ip = '127.0.0.21';
    const first = await peer(ip);
    assert.ok(await served(first));
    for (let i = 0; i < 2; i++) assert.ok(await served(await peer(ip)), `peer ${i + 2}`);
    const fourth = await peer(ip);
    assert.ok(await closedWithin(fourth, 5000), 'the fourth is closed');
    assert.equal(Buffer.concat(fourth.received).length, 0, 'and gets no handshake');
    assert.ok(await served(await peer('127.0.0.22')), 'another address is served');

    // The first one publishes with a real key: its place is free again.
    // C0 and C1 went out already: the rest of the encoder's bytes.
    const script = publishScript({ publishName: await streamKey(), frames: 0, unpublish: false });
    first.socket.write(script.bytes.subarray(1537));
    const start = await waitForStatus(first, (s) => s.code.startsWith('NetStream.Publish.'));
    assert.equal(start?.code, 'NetStream.Publish.Start');
    const again = await peer(ip);
    assert.ok(await served(again), 'a new connection from that address is served');
    assert.ok(await closedWithin(await peer(ip), 5000), 'and the cap holds again after it');

    // A pending connection that closes frees its place too.
    again.socket.destroy();
    assert.ok(await servedOnceClosed(ip), 'served after one closed');
  });

  it('all addresses together may hold six', async () => {
    for (const p of peers) p.socket.destroy();
    await Promise.all(peers.map((p) => p.closed));
    peers.length = 0;
    // The publisher of the first test is gone too; nothing is pending once the server sees it.
    for (let i = 0; i < 6; i++) {
      assert.ok(await servedOnceClosed(`127.0.0.${30 + i}`), `address ${i}`);
    }
    const seventh = await peer('127.0.0.40');
    assert.ok(await closedWithin(seventh, 5000), 'the seventh is closed');
    peers[0]!.socket.destroy();
    assert.ok(await servedOnceClosed('127.0.0.41'), 'served once one closed');
  });
});
