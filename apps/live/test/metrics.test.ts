import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { StreamKeyResponse } from '@neon/contracts';
import { MemoryBus } from '@neon/bus';
import { createLogger, type Client } from '@neon/kit';
import { publishScript, statusCodes } from '@neon/rtmp/testing';
import { engines, skipUnless, uniqueName, waitFor } from '@neon/testing';
import {
  MemoryViewerCounter,
  RedisViewerCounter,
  type ViewerCounter,
} from '../src/viewers/viewer-counter.js';
import { ViewersService } from '../src/viewers/viewers.service.js';
import { variants, type Harness } from './harness.js';

/** One series' value from the registry, as a scrape reads it; undefined when the series is absent. */
async function value(
  h: Harness,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = h.live.server.metrics.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    ?.value;
}

// The transcoder's place is taken by a process that swallows its input: the
// broadcast has a pipeline and takes media, and no encoding costs the machine.
const variant = variants()[0]!;
describe('live metrics of broadcasts and ingest', () => {
  let h: Harness;
  let binDir: string;
  before(async () => {
    binDir = mkdtempSync(join(tmpdir(), 'neon-live-metrics-'));
    const swallow = join(binDir, 'transcoder.sh');
    writeFileSync(swallow, '#!/bin/sh\nexec cat >/dev/null\n');
    chmodSync(swallow, 0o755);
    h = await variant.open({ FFMPEG_PATH: swallow, RECONNECT_GRACE_SECONDS: '0' });
  });
  after(async () => {
    await h.close();
    rmSync(binDir, { recursive: true, force: true });
  });

  async function keyOf(user: Client): Promise<string> {
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream-key',
      headers: h.as(user),
    });
    return res.json<StreamKeyResponse>().streamKey;
  }

  async function publisher(segments: Buffer[]) {
    const socket = connect({ host: '127.0.0.1', port: h.live.rtmpPort()! });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.write(Buffer.concat(segments));
    const codes = () => {
      try {
        return statusCodes(received);
      } catch {
        return []; // a partial message: wait for more
      }
    };
    return { socket, codes };
  }

  it('counts the broadcasts carried, the bytes taken in and their bitrate, and the publishes refused', async () => {
    assert.equal(await value(h, 'live_broadcasts'), 0);
    assert.equal(await value(h, 'live_ingest_bytes_total'), 0);
    assert.equal(await value(h, 'live_viewers'), 0);
    const user = h.user();
    const key = await keyOf(user);
    const script = publishScript({ publishName: key, frames: 30, unpublish: false });
    // handshake, connect, chunk size, releaseStream, FCPublish, createStream, publish
    const afterPublish = 7;
    const first = await publisher(script.segments.slice(0, afterPublish));
    await waitFor(() => first.codes().includes('NetStream.Publish.Start'), {
      what: 'the publish to start',
    });
    assert.equal(await value(h, 'live_broadcasts'), 1);

    const media = script.segments.slice(afterPublish);
    first.socket.write(Buffer.concat(media));
    // As FLV: a 13-byte file header, then each frame with 15 bytes of tag framing (and the metadata).
    const flvBytes = 13 + script.media.reduce((n, m) => n + 15 + m.payload.length, 0);
    await waitFor(async () => ((await value(h, 'live_ingest_bytes_total')) ?? 0) >= flvBytes, {
      what: 'every frame counted',
    });
    const bitrate = await value(h, 'live_ingest_bitrate_bits_per_second', {
      channel: user.username,
    });
    assert.ok(bitrate !== undefined && bitrate > 0, `a bitrate for the channel: ${bitrate}`);

    const second = await publisher(
      publishScript({ publishName: key, frames: 0, unpublish: false }).segments,
    );
    await waitFor(() => second.codes().some((c) => c !== 'NetStream.Publish.Start'), {
      what: 'the second publish refused',
    });
    assert.equal(
      await value(h, 'live_broadcasts_refused_total', { code: 'LIVE_ALREADY_PUBLISHING' }),
      1,
    );
    assert.equal(await value(h, 'live_broadcasts'), 1, 'the refused one is not carried');

    second.socket.destroy();
    first.socket.destroy();
    await waitFor(async () => (await value(h, 'live_broadcasts')) === 0, {
      what: 'the broadcast ended',
    });
    assert.equal(
      await value(h, 'live_ingest_bitrate_bits_per_second', { channel: user.username }),
      undefined,
      'no series left behind for an ended broadcast',
    );
  });
});

const { redisUrl } = engines();

function watchingSuite(
  name: string,
  skip: string | false,
  open: () => Promise<{ counter: ViewerCounter; close(): Promise<void> }>,
) {
  describe(
    `live_viewers reads the last count of the replica's broadcasts (${name})`,
    { skip },
    () => {
      it('sums the channels it is given, from the last round, and forgets an ended one', async () => {
        const engine = await open();
        const counter = engine.counter;
        const bus = new MemoryBus({ producer: 'test' });
        const live = [
          { channel: 'alice', broadcastId: 'b1' },
          { channel: 'bob', broadcastId: 'b2' },
        ];
        const viewers = new ViewersService(
          counter,
          bus,
          createLogger({ level: 'silent' }),
          1000,
          () => live,
        );
        try {
          await counter.touch('alice', 'v:1');
          await counter.touch('alice', 'v:2');
          await counter.touch('bob', 'v:1');
          await counter.touch('carol', 'v:3');
          assert.equal(viewers.watching(['alice', 'bob']), 0, 'nothing counted before a round');
          await viewers.tick();
          assert.equal(viewers.watching(['alice', 'bob']), 3);
          assert.equal(viewers.watching(['alice']), 2);
          assert.equal(viewers.watching(['carol']), 0, 'not a broadcast of this replica');
          await viewers.reset('alice');
          assert.equal(viewers.watching(['alice', 'bob']), 1);
        } finally {
          viewers.close();
          await bus.close();
          await engine.close();
        }
      });
    },
  );
}

watchingSuite('memory', false, async () => ({
  counter: new MemoryViewerCounter(30_000),
  close: async () => {},
}));
watchingSuite('redis', skipUnless(redisUrl, 'TEST_REDIS_URL'), async () => {
  const redis = new Redis(redisUrl!);
  return {
    counter: new RedisViewerCounter(redis, 30_000, `${uniqueName('viewers')}:`),
    close: async () => {
      await redis.quit();
    },
  };
});
