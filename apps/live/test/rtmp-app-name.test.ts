import { it } from 'node:test';
import assert from 'node:assert/strict';
import { amfObject } from '@neon/rtmp';
import { command, handshake } from '@neon/rtmp/testing';
import { variants } from './harness.js';
import { closedWithin, openPeer, waitForStatus } from './rtmp-peer.js';

// Only rtmp://host/live/<key> is served: another application is refused at
// connect with a reason the encoder can show, not left to time out.
it('a connect to an application other than live is refused with _error and closed', async () => {
  const h = await variants()[0]!.open();
  try {
    for (const app of ['vod', 'app', 'live2']) {
      const peer = await openPeer(h.live.rtmpPort()!);
      peer.socket.write(
        Buffer.concat([handshake(), command(3, 0, 128, 'connect', 1, amfObject({ app }))]),
      );
      const reply = await waitForStatus(peer, () => true);
      assert.deepEqual(
        reply,
        {
          level: 'error',
          code: 'NetConnection.Connect.Rejected',
          description: 'Unknown application. Publish to /live/<stream key>.',
        },
        app,
      );
      assert.ok(await closedWithin(peer, 5000), `${app}: closed`);
    }
  } finally {
    await h.close();
  }
});
