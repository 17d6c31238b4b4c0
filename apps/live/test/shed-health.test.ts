import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamKeyResponse, StreamSettings } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

// A machine too slow for the whole ladder (stood in for by an ffmpeg that reads
// at half of real time while it has two or more x264 outputs): the broadcast
// stays live with a rung turned off, and its owner reads that, and why.
const variant = variants()[0]!;
describe('a broadcast whose transcoder cannot keep up with the whole ladder', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neon-shed-'));
    const ffmpeg = join(dir, 'slow-ladder-ffmpeg.sh');
    writeFileSync(
      ffmpeg,
      `#!/usr/bin/env bash
n=0
for a in "$@"; do [ "$a" = libx264 ] && n=$((n+1)); done
args=()
for a in "$@"; do
  if [ "$a" = "-i" ] && [ "$n" -ge 2 ]; then args+=(-readrate 0.5); fi
  args+=("$a")
done
exec ffmpeg "\${args[@]}"
`,
    );
    chmodSync(ffmpeg, 0o755);
    h = await variant.open({ FFMPEG_PATH: ffmpeg });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function keyOf(user: Client): Promise<string> {
    const res = await h.live.server.inject({
      method: 'GET',
      url: '/api/v1/me/stream-key',
      headers: h.as(user),
    });
    return res.json<StreamKeyResponse>().streamKey;
  }

  it('turns the top rung off, tells the owner it is degraded, and keeps the stream live', async () => {
    const user = h.user();
    const key = await keyOf(user);
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
        `rtmp://127.0.0.1:${h.live.rtmpPort()}/live/${key}`,
      ],
      { stdio: 'ignore' },
    );
    process.once('exit', () => child.kill('SIGKILL'));
    try {
      const ingest = await waitFor(
        async () => {
          const res = await h.live.server.inject({
            method: 'GET',
            url: '/api/v1/me/stream',
            headers: h.as(user),
          });
          const i = res.json<StreamSettings>().ingest;
          return i?.health.state === 'degraded' ? i : false;
        },
        { timeoutMs: 40_000, intervalMs: 250, what: 'the ladder to shed a rung' },
      );
      assert.deepEqual(ingest.health.droppedRungs, ['360p']);
      assert.equal(ingest.health.replicaFull, false);
      const line = h.logs().find((l) => l.rendition === '360p' && Number(l.level) === 40);
      assert.ok(line, 'the shed is logged at warn');

      // New viewers are offered what is still produced; the stream stays live on it.
      const master = await h.live.server.inject({
        method: 'GET',
        url: `/hls/${user.username}/master.m3u8`,
      });
      assert.equal(master.statusCode, 200);
      assert.doesNotMatch(master.body, /360p/);
      assert.match(master.body, /160p\/index\.m3u8/);
      const gone = await h.live.server.inject({
        method: 'GET',
        url: `/hls/${user.username}/360p/index.m3u8`,
      });
      assert.equal(gone.statusCode, 404);
      assert.match(String(gone.headers['content-type']), /problem\+json/);

      const metrics = await h.live.server.metrics.metrics();
      assert.match(
        metrics,
        new RegExp(`live_rungs_shed\\{[^}]*channel="${user.username}"[^}]*\\} 1`),
      );
      assert.match(
        metrics,
        new RegExp(`live_rungs_active\\{[^}]*channel="${user.username}"[^}]*\\} 1`),
      );
      // Once measured again, the reduced ladder runs at real time.
      const speed = await waitFor(
        async () => {
          const text = await h.live.server.metrics.metrics();
          const m = new RegExp(
            `live_transcode_speed_ratio\\{[^}]*channel="${user.username}"[^}]*\\} ([\\d.]+)`,
          ).exec(text);
          return m ? Number(m[1]) : false;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'the reduced ladder to be measured' },
      );
      assert.ok(speed > 0.9, `speed ${speed}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  });
});
