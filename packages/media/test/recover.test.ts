import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recoverRecording } from '@neon/media';
import { ffprobeJson } from './helpers.js';

const FIXTURE = new URL('./fixtures/record-until-killed.ts', import.meta.url).pathname;

interface Seen {
  rendition: string;
  msn: number;
  seconds: number;
}

/**
 * Runs a broadcast in a process of its own and kills it, with its ffmpeg
 * children, without warning once `enough` holds for the segments it reported.
 */
async function recordThenCrash(dir: string, enough: (seen: Seen[]) => boolean): Promise<Seen[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const seen: Seen[] = [];
  let buffered = '';
  const exited = once(child, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`the broadcast exited early (${code})`)));
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const [, rendition, msn, seconds] = line.split(' ');
          if (rendition === undefined) continue;
          seen.push({ rendition, msn: Number(msn), seconds: Number(seconds) });
        }
        if (enough(seen)) resolve();
      });
    });
  } finally {
    // The whole process group: the service and its ffmpeg children die at once, as in a crash.
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    await exited;
  }
  return seen;
}

const secondsOf = (playlist: string) =>
  [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);

describe('recoverRecording', { timeout: 180_000 }, () => {
  it('turns what a killed broadcast left on disk into a VOD of everything recorded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-recover-'));
    try {
      const seen = await recordThenCrash(
        dir,
        (s) => s.filter((x) => x.rendition === 'source').length >= 4,
      );
      const result = await recoverRecording(dir);
      assert.ok(result, 'something was recovered');
      assert.equal(result.masterPath, join(dir, 'master.m3u8'));

      // Every source segment completed before the crash, but perhaps the last, is in the VOD.
      const completed = seen.filter((x) => x.rendition === 'source');
      const before = completed.slice(0, -1).reduce((a, x) => a + x.seconds, 0);
      assert.ok(before >= 4, `${before} s completed`);
      assert.ok(
        result.durationSeconds >= before - 0.01,
        `recovered ${result.durationSeconds} s of at least ${before} s`,
      );

      for (const rendition of ['source', '160p', 'audio']) {
        const playlist = await readFile(join(dir, rendition, 'index.m3u8'), 'utf8');
        assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:VOD/, rendition);
        assert.ok(playlist.trimEnd().endsWith('#EXT-X-ENDLIST'), rendition);
      }
      const master = await readFile(result.masterPath, 'utf8');
      assert.match(master, /^source\/index\.m3u8$/m);
      assert.match(master, /RESOLUTION=320x180,FRAME-RATE=30\.000,CODECS="avc1\.[0-9a-f]{6},mp4a/);
      assert.match(master, /TYPE=AUDIO.*URI="audio\/index\.m3u8"/);
      assert.deepEqual(
        result.renditions.map((r) => r.name),
        master.includes('160p') ? ['source', '160p', 'audio'] : ['source', 'audio'],
      );
      assert.ok(result.endedAt !== null && Math.abs(result.endedAt - Date.now()) < 60_000);

      // Plays end to end for as long as it says.
      const probe = await ffprobeJson(result.masterPath);
      assert.ok(
        Math.abs(Number(probe.format?.duration) - result.durationSeconds) < 0.5,
        `plays ${probe.format?.duration} s, listed ${result.durationSeconds} s`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves out a segment missing from disk with a discontinuity, and answers null for an empty folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-recover-'));
    try {
      await recordThenCrash(dir, (s) => s.filter((x) => x.rendition === 'source').length >= 4);
      const before = await readFile(join(dir, 'source', 'index.m3u8'), 'utf8');
      assert.match(before, /#EXT-X-PLAYLIST-TYPE:EVENT/);
      assert.ok(!before.includes('#EXT-X-ENDLIST'));
      const listed = before.split('\n').filter((l) => /^s\d+\.m4s$/.test(l));
      assert.ok(listed.length >= 3, before);
      await unlink(join(dir, 'source', listed[1]!));

      const result = await recoverRecording(dir);
      assert.ok(result);
      const after = await readFile(join(dir, 'source', 'index.m3u8'), 'utf8');
      const kept = after.split('\n').filter((l) => /^s\d+\.m4s$/.test(l));
      assert.deepEqual(kept, [listed[0], ...listed.slice(2)]);
      const lines = after.split('\n');
      assert.equal(lines[lines.indexOf(listed[2]!) - 3], '#EXT-X-DISCONTINUITY', after);
      assert.ok(secondsOf(after) < secondsOf(before));

      const empty = await mkdtemp(join(tmpdir(), 'neon-recover-'));
      assert.equal(await recoverRecording(empty), null);
      assert.equal(await recoverRecording(join(empty, 'missing')), null);
      await rm(empty, { recursive: true, force: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
