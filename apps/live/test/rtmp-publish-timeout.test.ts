import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { amfObject } from '@neon/rtmp';
import { chunkMessage, command, handshake } from '@neon/rtmp/testing';
import { variants } from './harness.js';
import { openPeer } from './rtmp-peer.js';

// A peer that finishes the handshake, connects and then only pings is never
// idle; the publish deadline, counted from the connection's opening, closes it.
it('closes an RTMP connection that keeps busy but never publishes', async () => {
  const h = await variants()[0]!.open({ RTMP_PUBLISH_TIMEOUT_MS: '1500' });
  try {
    const peer = await openPeer(h.live.rtmpPort()!);
    peer.socket.write(
      Buffer.concat([handshake(), command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' }))]),
    );
    const ping = Buffer.alloc(6);
    ping.writeUInt16BE(6, 0);
    let pings = 0;
    // At 250 ms a ping, 40 pings are 10 s: far past the 1.5 s deadline.
    while (!peer.isClosed() && pings < 40) {
      await sleep(250);
      if (!peer.socket.destroyed) {
        peer.socket.write(
          chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: ping, chunkSize: 128 }),
        );
      }
      pings++;
    }
    assert.ok(peer.isClosed(), 'the server closed the connection');
    assert.ok(pings < 40, `closed after ${pings} pings`);
    peer.socket.destroy();
  } finally {
    await h.close();
  }
});
