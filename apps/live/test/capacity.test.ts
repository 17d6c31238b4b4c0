import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { StreamKeyResponse, StreamSettings } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { publishScript } from '@neon/rtmp/testing';
import { waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';
import { openPeer, waitForStatus } from './rtmp-peer.js';

// A replica whose broadcasts already use its transcoding capacity refuses a new
// one at the RTMP publish and says it is full on /readyz, while it goes on
// serving the broadcast it has (liveness stays 200).
const variant = variants()[0]!;
describe('a live replica at its transcoding capacity', () => {
  let h: Harness;
  before(async () => {
    // One core at 1%: a single broadcast's measured cost fills it.
    h = await variant.open({ LIVE_CAPACITY_CORES: '1', LIVE_CAPACITY_PERCENT: '1' });
  });
  after(() => h.close());

  async function keyOf(user: Client): Promise<string> {
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream-key',
      headers: h.as(user),
    });
    return res.json<StreamKeyResponse>().streamKey;
  }

  const settings = async (user: Client) => {
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream',
      headers: h.as(user),
    });
    assert.equal(res.statusCode, 200);
    return res.json<StreamSettings>();
  };

  const readyz = async () => {
    const res = await h.live.server.inject({ method: 'GET', url: '/readyz' });
    return { status: res.statusCode, body: res.json<{ checks: Record<string, string> }>() };
  };

  it('refuses a new publish with LIVE_CAPACITY_FULL and is not ready, then has room again', async () => {
    assert.equal((await readyz()).status, 200);
    const first = h.user();
    const firstKey = await keyOf(first);
    const child: ChildProcess = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=640x360:rate=30',
        '-f',
        'lavfi',
        '-i',
        'sine',
        '-t',
        '60',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '30',
        '-c:a',
        'aac',
        '-f',
        'flv',
        `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${firstKey}`,
      ],
      { stdio: 'ignore' },
    );
    process.once('exit', () => child.kill('SIGKILL'));
    try {
      const full = await waitFor(
        async () => {
          const r = await readyz();
          return r.status === 503 ? r : false;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'the replica to measure itself full' },
      );
      assert.match(full.body.checks.capacity ?? '', /^full: 1 broadcasts use [\d.]+ of 0.01 cores/);
      const health = await h.live.server.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200, 'liveness is not readiness');

      // The broadcast on the air carries on, and its owner hears that the replica is full.
      const ingest = (await settings(first)).ingest;
      assert.ok(ingest, 'still live');
      assert.equal(ingest.health.replicaFull, true);
      assert.equal(ingest.health.state, 'good');
      assert.deepEqual(ingest.health.droppedRungs, []);

      const second = h.user();
      const peer = await openPeer(h.live.rtmpPort()!, '127.0.0.1');
      let refused;
      try {
        peer.socket.write(
          publishScript({ publishName: await keyOf(second), frames: 0, unpublish: false }).bytes,
        );
        refused = await waitForStatus(peer, (s) => s.code.startsWith('NetStream.Publish.'));
      } finally {
        peer.socket.destroy();
      }
      assert.equal(refused?.code, 'NetStream.Publish.Denied');
      assert.match(refused?.description ?? '', /LIVE_CAPACITY_FULL/);
      assert.equal((await settings(second)).live, false);
      assert.ok(
        h.logs().some((l) => l.code === 'LIVE_CAPACITY_FULL' && l.channel === second.username),
        'the refusal is logged at warn',
      );

      const metrics = await h.live.server.metrics.metrics();
      assert.match(metrics, /live_broadcasts_refused_total\{code="LIVE_CAPACITY_FULL"[^}]*\} 1/);
      assert.match(metrics, /live_rungs_active\{[^}]*channel="[^"]+"[^}]*\} 2/);
      assert.match(metrics, /live_transcode_load_cores\{kind="capacity"[^}]*\} 0.01/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await waitFor(async () => (await readyz()).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'the replica to have room once its broadcast ended',
    });
  });
});
