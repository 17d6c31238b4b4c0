import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { StreamKeyResponse, StreamSettings } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { publishScript, statusCodes } from '@neon/rtmp/testing';
import { waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

// An encoder cut off for its bitrate must learn why: the log says it at warn
// with both figures, and its owner reads it from GET /api/v1/me/stream.
const LIMIT_KBPS = 2000;

for (const variant of variants()) {
  describe(
    `a publisher over the ingest bitrate limit on ${variant.name}`,
    { skip: variant.skip },
    () => {
      let h: Harness;
      before(async () => {
        h = await variant.open({ INGEST_MAX_BITRATE_KBPS: String(LIMIT_KBPS) });
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

      it('that announces too much is cut off, and says so in the log and in its stream settings', async () => {
        const user = h.user();
        const key = await keyOf(user);
        assert.equal((await settings(user)).lastDisconnect, null, 'nothing to report yet');

        // The script announces 2,500 kb/s of video and 128 kb/s of audio, after
        // the publish is accepted, as encoders do.
        const { segments } = publishScript({ publishName: key, frames: 6, unpublish: false });
        // handshake, connect, chunk size, releaseStream, FCPublish, createStream, publish
        const afterPublish = 7;
        const socket = connect({ host: '127.0.0.1', port: h.live.rtmpPort()! });
        socket.on('error', () => undefined);
        const closed = once(socket, 'close');
        await once(socket, 'connect');
        const received: Buffer[] = [];
        socket.on('data', (d: Buffer) => received.push(d));
        socket.write(Buffer.concat(segments.slice(0, afterPublish)));
        await waitFor(
          () => {
            try {
              return statusCodes(received).includes('NetStream.Publish.Start');
            } catch {
              return false; // a partial message: wait for more
            }
          },
          { what: 'the publish to start' },
        );
        socket.write(Buffer.concat(segments.slice(afterPublish)));
        await closed;

        const { lastDisconnect } = await settings(user);
        assert.ok(lastDisconnect, 'the disconnect is reported');
        assert.equal(lastDisconnect.code, 'LIVE_INGEST_BITRATE_EXCEEDED');
        assert.equal(lastDisconnect.limitKbps, LIMIT_KBPS);
        assert.equal(lastDisconnect.measuredKbps, 2628);
        assert.ok(!Number.isNaN(Date.parse(lastDisconnect.at)));

        const line = h
          .logs()
          .find((l) => l.code === 'LIVE_INGEST_BITRATE_EXCEEDED' && l.channel === user.username);
        assert.ok(line, 'logged at warn or above');
        assert.ok(Number(line.level) >= 40);
        assert.equal(line.limitKbps, LIMIT_KBPS);
        assert.equal(line.measuredKbps, 2628);

        const other = h.user();
        await keyOf(other);
        assert.equal((await settings(other)).lastDisconnect, null, "another channel's is its own");
      });

      // ffmpeg at full rate is costly, and the cut-off is the ingest's own: one engine is enough.
      if (!variant.name.startsWith('PostgreSQL'))
        it('that sends too much without announcing it is cut off once measured', async () => {
          const user = h.user();
          const key = await keyOf(user);
          // Lossless H.264 and no audio: far above the limit, and ffmpeg announces
          // no bitrate when none is set, so only the measurement can catch it.
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
              '-t',
              '60',
              '-c:v',
              'libx264',
              '-preset',
              'ultrafast',
              '-qp',
              '0',
              '-pix_fmt',
              'yuv420p',
              '-g',
              '30',
              '-an',
              '-f',
              'flv',
              `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${key}`,
            ],
            { stdio: 'ignore' },
          );
          process.once('exit', () => child.kill('SIGKILL'));
          try {
            const lastDisconnect = await waitFor(
              async () => (await settings(user)).lastDisconnect ?? false,
              {
                timeoutMs: 30_000,
                intervalMs: 250,
                what: 'the measured bitrate to cut the publisher off',
              },
            );
            assert.equal(lastDisconnect.code, 'LIVE_INGEST_BITRATE_EXCEEDED');
            assert.equal(lastDisconnect.limitKbps, LIMIT_KBPS);
            assert.ok(
              (lastDisconnect.measuredKbps ?? 0) > LIMIT_KBPS,
              JSON.stringify(lastDisconnect),
            );
            const line = h
              .logs()
              .find(
                (l) => l.code === 'LIVE_INGEST_BITRATE_EXCEEDED' && l.channel === user.username,
              );
            assert.ok(line && Number(line.level) >= 40, 'logged at warn or above');
            assert.equal(line.measuredKbps, lastDisconnect.measuredKbps);
          } finally {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGKILL');
              await once(child, 'exit');
            }
          }
        });
    },
  );
}
