import { it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { variants } from './harness.js';

// A peer that sends the handshake one byte at a time never goes idle, so only
// a deadline counted from the connection's start closes it.
it('closes an RTMP peer that dribbles its handshake past the deadline', async () => {
  const variant = variants()[0]!;
  const h = await variant.open({ RTMP_HANDSHAKE_TIMEOUT_MS: '1500' });
  try {
    const socket = connect({ host: '127.0.0.1', port: h.live.rtmpPort()! });
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(Buffer.from([3]));
    let sent = 1;
    // C1 is 1536 bytes: at one byte per 250 ms the handshake could never finish here.
    while (!closed && sent < 40) {
      await sleep(250);
      if (!socket.destroyed) socket.write(Buffer.from([sent & 0xff]));
      sent++;
    }
    assert.ok(closed, 'the server closed the connection');
    assert.ok(sent < 40, `closed after ${sent} bytes`);
    socket.destroy();
  } finally {
    await h.close();
  }
});
