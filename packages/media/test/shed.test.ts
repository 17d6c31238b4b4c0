import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_SHED_POLICY,
  shedDecision,
  SpeedMeter,
  startPipeline,
  type LadderReading,
  type Pipeline,
} from '@neon/media';
import { cpuLimitedFfmpeg, syntheticSourceArgs } from '@neon/testing';
import { FFMPEG, ffprobeJson, silentLogger } from './helpers.js';

const reading = (r: Partial<LadderReading>): LadderReading => ({
  speed: 1,
  backlogSeconds: 0,
  sinceChangeMs: 600_000,
  sheds: 1,
  ladderCores: 1,
  idleCores: 1,
  restoreShare: 0.5,
  ...r,
});

describe('shedding: when to drop a rung and when to take it back', () => {
  const p = DEFAULT_SHED_POLICY;

  it('measures media seconds per wall second over the window, nothing before half of it', () => {
    const m = new SpeedMeter(10_000);
    m.push(0, 0);
    m.push(4000, 2800);
    assert.equal(m.speed(), null);
    for (let t = 5000; t <= 30_000; t += 500) m.push(t, t * 0.7);
    assert.ok(Math.abs(m.speed()! - 0.7) < 0.01, String(m.speed()));
    // Only the last 10 s count: a recovery shows within the window.
    for (let t = 30_500; t <= 45_000; t += 500) m.push(t, 21_000 + (t - 30_000));
    assert.ok(Math.abs(m.speed()! - 1) < 0.01, String(m.speed()));
  });

  it('sheds when slower than real time or too far behind, not in the seconds after a change', () => {
    assert.equal(shedDecision(reading({ speed: 0.9 }), p), 'shed');
    assert.equal(shedDecision(reading({ speed: 1, backlogSeconds: 4 }), p), 'shed');
    assert.equal(shedDecision(reading({ speed: 0.9, sinceChangeMs: 2000 }), p), 'hold');
    assert.equal(shedDecision(reading({ speed: 0.97, restoreShare: null }), p), 'hold');
  });

  it('takes a rung back after a minute on time when the idle cores cover its cost with margin', () => {
    // The rung would add half of the ladder's 1 core: 0.5 × 1.3 = 0.65 idle cores needed.
    assert.equal(shedDecision(reading({ idleCores: 0.7 }), p), 'restore');
    assert.equal(shedDecision(reading({ idleCores: 0.6 }), p), 'hold');
    assert.equal(shedDecision(reading({ sinceChangeMs: 59_000 }), p), 'hold');
    // Each shed doubles the wait: after the third, four minutes.
    assert.equal(shedDecision(reading({ sheds: 3, sinceChangeMs: 200_000 }), p), 'hold');
    assert.equal(shedDecision(reading({ sheds: 3, sinceChangeMs: 240_000 }), p), 'restore');
    assert.equal(shedDecision(reading({ backlogSeconds: 2 }), p), 'hold');
  });
});

/**
 * An ffmpeg for a machine that cannot carry the whole ladder: a process with
 * two or more x264 outputs reads its input at half of real time (so it falls
 * further behind every second); one with a single x264 output runs free.
 */
async function slowLadderFfmpeg(dir: string): Promise<string> {
  const path = join(dir, 'slow-ladder-ffmpeg.sh');
  await writeFile(
    path,
    `#!/usr/bin/env bash
n=0
for a in "$@"; do [ "$a" = libx264 ] && n=$((n+1)); done
args=()
for a in "$@"; do
  if [ "$a" = "-i" ] && [ "$n" -ge 2 ]; then args+=(-readrate 0.5); fi
  args+=("$a")
done
exec ${FFMPEG} "\${args[@]}"
`,
  );
  await chmod(path, 0o755);
  return path;
}

function publish(args: string[], sink: (chunk: Buffer) => void): Promise<number | null> {
  const child = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', ...args, '-f', 'flv', '-'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', sink);
  return new Promise((resolve) => child.on('close', resolve));
}

function seconds(playlist: string): number {
  return [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

async function waitUntil(p: Pipeline, test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 200));
  void p;
}

describe('shedding: a transcoder that cannot keep up with the whole ladder', () => {
  const SECONDS = 24;
  const FPS = 30;

  it('turns the top rung off, keeps the rest live at real time and records everything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-shed-'));
    const pipeline = startPipeline({
      ffmpegPath: await slowLadderFfmpeg(dir),
      outputDir: join(dir, 'out'),
      source: { width: 640, height: 360, fps: FPS },
      logger: silentLogger,
      // A rung more than 3 s late at the end is cut short (and left out of the VOD).
      ladderDrainMs: 3000,
    });
    let published = false;
    const publisher = publish(
      [
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=640x360:rate=${FPS}`,
        '-f',
        'lavfi',
        '-i',
        'sine',
        '-t',
        String(SECONDS),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        String(FPS),
        '-c:a',
        'aac',
      ],
      (c) => pipeline.write(c),
    ).then((code) => {
      published = true;
      return code;
    });
    try {
      assert.match(pipeline.masterPlaylist() ?? '360p/index.m3u8', /360p\/index\.m3u8/);
      await waitUntil(pipeline, () => published || pipeline.health().shedRungs.length > 0);
      const health = pipeline.health();
      assert.deepEqual(health.shedRungs, ['360p'], JSON.stringify(health));
      assert.deepEqual(health.activeRungs, ['160p']);

      // New viewers are no longer offered the rung; one still asking for it is sent elsewhere.
      const master = pipeline.masterPlaylist() ?? '';
      assert.doesNotMatch(master, /360p/);
      assert.match(master, /^160p\/index\.m3u8$/m);
      assert.match(master, /^source\/index\.m3u8$/m);
      await assert.rejects(pipeline.mediaPlaylist('360p', {}), { code: 'NOT_FOUND' });

      assert.equal(await publisher, 0);
      // The reduced ladder kept up: it was on time when the publisher stopped.
      const after = pipeline.health();
      assert.ok(after.backlogSeconds < 2, JSON.stringify(after));
      assert.ok(after.speed === null || after.speed > 0.9, JSON.stringify(after));
      const live160 = await pipeline.mediaPlaylist('160p', {});
      assert.match(live160, /#EXT-X-DISCONTINUITY/);

      const result = await pipeline.end();
      assert.ok(
        Math.abs(result.durationSeconds - SECONDS) <= SECONDS * 0.02,
        `recorded ${result.durationSeconds} s of ${SECONDS} s`,
      );
      const source = seconds(await readFile(join(dir, 'out', 'source', 'index.m3u8'), 'utf8'));
      assert.ok(Math.abs(source - SECONDS) <= SECONDS * 0.02, `source has ${source} s`);
      // 160p lost only what the stopped ladder held when it was replaced, and was not cut at the end.
      const low = seconds(await readFile(join(dir, 'out', '160p', 'index.m3u8'), 'utf8'));
      assert.ok(low >= SECONDS - 8, `160p has ${low} s of ${SECONDS} s`);
      const vod = await ffprobeJson(result.masterPath);
      assert.ok(
        Math.abs(Number(vod.format?.duration) - SECONDS) <= SECONDS * 0.02,
        `the VOD plays ${vod.format?.duration} s`,
      );
    } finally {
      await pipeline.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('shedding: a rung comes back when the transcoder has room again', () => {
  const SECONDS = 30;
  const dir = mkdtempSync(join(tmpdir(), 'neon-restore-'));
  // The ladder's ffmpeg in a control group capped at 0.08 of a core: enough for 160p, not for 360p too.
  const limit = cpuLimitedFfmpeg(dir, 0.08, FFMPEG);
  after(async () => {
    limit.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sheds 360p under a CPU cap, offers it again once the cap is lifted, and records everything', async () => {
    const pipeline = startPipeline({
      ffmpegPath: limit.ffmpegPath,
      outputDir: join(dir, 'out'),
      source: { width: 640, height: 360, fps: 30 },
      logger: silentLogger,
      ladderDrainMs: 3000,
      shed: { restoreAfterMs: 1000 },
      // This machine is shared and seldom idle; the idle-cores rule has its unit test above.
      hostIdleSeconds: () => (cpus().length * Date.now()) / 1000,
    });
    const publisher = publish(
      syntheticSourceArgs('-', { width: 640, height: 360, seconds: SECONDS }).slice(0, -3),
      (c) => pipeline.write(c),
    );
    try {
      await waitUntil(pipeline, () => pipeline.health().shedRungs.length > 0);
      assert.deepEqual(pipeline.health().shedRungs, ['360p']);
      assert.doesNotMatch(pipeline.masterPlaylist() ?? '', /360p/);

      limit.setCores(null);
      await waitUntil(pipeline, () => /^360p\/index\.m3u8$/m.test(pipeline.masterPlaylist() ?? ''));
      const health = pipeline.health();
      assert.deepEqual(health.shedRungs, []);
      assert.deepEqual(health.activeRungs, ['360p', '160p']);
      // A player on the returning rung gets a playlist again: what it had, a discontinuity, new media.
      const back = await pipeline.mediaPlaylist('360p', {});
      assert.match(back, /#EXT-X-DISCONTINUITY[\s\S]*#EXT-X-PART:/);

      assert.equal(await publisher, 0);
      const result = await pipeline.end();
      assert.ok(
        Math.abs(result.durationSeconds - SECONDS) <= SECONDS * 0.02,
        `recorded ${result.durationSeconds} s of ${SECONDS} s`,
      );
    } finally {
      await pipeline.end();
    }
  });
});
