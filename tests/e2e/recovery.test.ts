import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StreamKeyResponse, StreamSettings, VideoList } from '@neon/contracts';
import { syntheticSourceArgs, waitFor, embeddedDataDir } from '@neon/testing';
import { startNeon, type Spawned } from './lib/process.js';

const RUNNING = /Neon is running: open (http:\/\/\S+)/;
const INGEST = /Publish with OBS or ffmpeg to (rtmp:\/\/\S+)\/<stream key>/;

const env = (dataDir: string) => ({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  RTMP_HOST: '127.0.0.1',
  RTMP_PORT: '0',
});

/** Seconds a media playlist lists. */
const listedSeconds = (playlist: string) =>
  [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);

describe('a broadcast live when the platform is killed', { timeout: 300_000 }, () => {
  let dataDir: string;
  const running: Spawned[] = [];

  before(async () => {
    dataDir = await embeddedDataDir('neon-recovery-');
    // The start command builds the web app when its build is missing; do that outside the timed part.
    execFileSync(process.execPath, ['scripts/ensure-web.mjs'], { stdio: 'ignore' });
  });
  after(async () => {
    for (const neon of running) {
      const { exitCode, signalCode } = neon.child;
      if (exitCode === null && signalCode === null) await neon.stop('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is listed after a restart as a video of what was recorded, and plays for that long', async () => {
    const first = startNeon(env(dataDir));
    running.push(first);
    const [, url] = await first.waitFor(RUNNING, 60_000);
    const [, ingest] = await first.waitFor(INGEST, 1000);
    const registered = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'crash_streamer',
        email: 'crash@example.test',
        password: 'a long and unusual passphrase',
      }),
    });
    assert.equal(registered.status, 201);
    const { accessToken } = (await registered.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}` };
    const { streamKey } = (await (
      await fetch(`${url}/api/v1/me/stream-key`, { headers: auth })
    ).json()) as StreamKeyResponse;

    const publisher = spawn(
      'ffmpeg',
      syntheticSourceArgs(`${ingest!.replace('localhost', '127.0.0.1')}/${streamKey}`, {
        width: 640,
        height: 360,
      }),
      { stdio: 'ignore' },
    );
    process.once('exit', () => publisher.kill('SIGKILL'));
    let recordedBeforeCrash = 0;
    let broadcastId = '';
    try {
      broadcastId = await waitFor(
        async () => {
          const r = await fetch(`${url}/api/v1/me/stream`, { headers: auth });
          const s = (await r.json()) as StreamSettings;
          return s.live && s.broadcastId ? s.broadcastId : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'the broadcast to go live' },
      );
      // What is on disk is what a crash leaves: wait for a few seconds of it.
      const onDisk = join(dataDir, 'media', broadcastId, 'source', 'index.m3u8');
      await waitFor(
        () => {
          try {
            recordedBeforeCrash = listedSeconds(readFileSync(onDisk, 'utf8'));
          } catch {
            return false;
          }
          return recordedBeforeCrash >= 6;
        },
        { timeoutMs: 90_000, intervalMs: 250, what: 'six seconds recorded' },
      );
      const killed = await first.stop('SIGKILL');
      assert.equal(killed.code, null);
    } finally {
      publisher.kill('SIGKILL');
    }

    const second = startNeon(env(dataDir));
    running.push(second);
    const [, again] = await second.waitFor(RUNNING, 60_000);
    const list = (await (
      await fetch(`${again}/api/v1/channels/crash_streamer/videos`)
    ).json()) as VideoList;
    const video = list.items.find((v) => v.id === broadcastId);
    assert.ok(video, JSON.stringify(list));
    assert.ok(
      video.durationSeconds >= recordedBeforeCrash - 0.01,
      `listed ${video.durationSeconds} s, ${recordedBeforeCrash} s were on disk`,
    );
    // The recording plays, through the public entry, for as long as it is listed.
    const { stdout } = await promisify(execFile)('ffprobe', [
      ...['-v', 'error', '-print_format', 'json', '-show_format'],
      `${again}${video.playlistUrl}`,
    ]);
    const played = Number(
      (JSON.parse(stdout) as { format?: { duration?: string } }).format?.duration,
    );
    assert.ok(
      Math.abs(played - video.durationSeconds) < 0.5,
      `plays ${played} s, listed ${video.durationSeconds} s`,
    );
    assert.equal((await second.stop('SIGTERM')).code, 0, second.output().slice(-2000));
  });
});
