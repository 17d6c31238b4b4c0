import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { amfObject } from '@neon/rtmp';
import { basicHeader, chunkMessage, command, handshake, serverMessages } from '@neon/rtmp/testing';
import { variants, type Harness } from './harness.js';
import { closedWithin, openPeer, waitFor } from './rtmp-peer.js';

/** A type-0 video message header declaring `length` bytes, and no payload yet. */
function header(csid: number, length: number): Buffer {
  const h = Buffer.alloc(11);
  h.writeUIntBE(length, 3, 3);
  h[6] = 9;
  h.writeUInt32LE(1, 7);
  return Buffer.concat([basicHeader(0, csid), h]);
}

// Unauthenticated peers could make the server hold two unfinished ~7.8 MiB
// messages each; before a publish is accepted only 64 KiB is allowed.
const variant = variants()[0]!;
describe('RTMP before a publish', () => {
  let h: Harness;
  before(async () => {
    h = await variant.open();
  });
  after(() => h.close());

  for (const [what, afterHandshake] of [
    ['before connect', Buffer.alloc(0)],
    ['after connect', command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' }))],
  ] as const) {
    it(`a peer declaring a 7.8 MiB message ${what} is cut off`, async () => {
      const peer = await openPeer(h.live.rtmpPort()!);
      peer.socket.write(Buffer.concat([handshake(), afterHandshake, header(6, 8_178_892)]));
      // The first payload bytes: without the budget these would be buffered towards 7.8 MiB.
      peer.socket.write(Buffer.alloc(128, 0x41));
      assert.ok(await closedWithin(peer, 5000), 'the server closed the connection');
    });
  }

  it('a peer with a small unfinished message and a few commands is still served', async () => {
    const peer = await openPeer(h.live.rtmpPort()!);
    const ping = Buffer.alloc(6);
    ping.writeUInt16BE(6, 0); // PingRequest
    ping.writeUInt32BE(1234, 2);
    peer.socket.write(
      Buffer.concat([
        handshake(),
        command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' })),
        header(6, 60_000),
        Buffer.alloc(128, 0x41), // one whole chunk: the message stays unfinished
        chunkMessage({ csid: 2, fmt: 0, typeId: 4, payload: ping, chunkSize: 128 }),
      ]),
    );
    const pong = await waitFor(peer, () =>
      serverMessages(peer.received).some(
        (m) =>
          m.typeId === 4 && m.payload.readUInt16BE(0) === 7 && m.payload.readUInt32BE(2) === 1234,
      ),
    );
    assert.ok(pong, 'the PingResponse came back');
    assert.equal(peer.isClosed(), false);
    peer.socket.destroy();
  });
});
