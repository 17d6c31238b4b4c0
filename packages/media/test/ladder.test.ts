import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildFfmpegArgs,
  DEFAULT_LADDER,
  fragmentDurationUs,
  planLadder,
  type PlannedRendition,
} from '@neon/media';

const names = (plan: PlannedRendition[]) => plan.map((r) => r.name);

describe('planLadder', () => {
  it('keeps every rung for a 1080p source, with the source copied', () => {
    const plan = planLadder({
      width: 1920,
      height: 1080,
      videoCodec: 'h264',
      audioCodec: 'aac',
      videoBitrateKbps: 6000,
    });
    assert.deepEqual(names(plan), ['source', '720p', '480p', '360p', '160p', 'audio']);
    const source = plan[0];
    assert.equal(source?.kind === 'video' && source.copy, true);
    assert.equal(source?.kind === 'video' && source.videoBitrateKbps, 6000);
    const r720 = plan[1];
    assert.deepEqual(r720?.kind === 'video' && [r720.width, r720.height, r720.copy], [
      1280,
      720,
      false,
    ]);
    const audio = plan.at(-1);
    assert.equal(audio?.kind === 'audio' && audio.copy, true);
  });

  it('keeps the rung at the source height for a 720p source', () => {
    const plan = planLadder({ width: 1280, height: 720, videoCodec: 'h264', audioCodec: 'aac' });
    assert.deepEqual(names(plan), ['source', '720p', '480p', '360p', '160p', 'audio']);
  });

  it('never upscales: a 480p source drops 720p', () => {
    const plan = planLadder({ width: 854, height: 480, videoCodec: 'h264', audioCodec: 'aac' });
    assert.deepEqual(names(plan), ['source', '480p', '360p', '160p', 'audio']);
    for (const r of plan) if (r.kind === 'video' && !r.copy) assert.ok(r.height <= 480);
  });

  it('keeps the aspect ratio with even widths', () => {
    const plan = planLadder({ width: 640, height: 480, videoCodec: 'h264', audioCodec: 'aac' });
    const r360 = plan.find((r) => r.name === '360p');
    assert.deepEqual(r360?.kind === 'video' && [r360.width, r360.height], [480, 360]);
    for (const r of plan) if (r.kind === 'video') assert.equal(r.width % 2, 0);
  });

  it('plans audio alone for an audio-only source', () => {
    const plan = planLadder({ videoCodec: null, audioCodec: 'aac' });
    assert.deepEqual(names(plan), ['audio']);
  });

  it('plans video alone for a video-only source', () => {
    const plan = planLadder({ width: 1280, height: 720, videoCodec: 'h264', audioCodec: null });
    assert.equal(
      plan.some((r) => r.kind === 'audio'),
      false,
    );
    assert.deepEqual(names(plan), ['source', '720p', '480p', '360p', '160p']);
  });

  it('encodes audio that is not AAC and video that is not H.264', () => {
    const plan = planLadder({ width: 1280, height: 720, videoCodec: 'flv-4', audioCodec: 'mp3' });
    const source = plan.find((r) => r.name === 'source');
    const audio = plan.find((r) => r.name === 'audio');
    assert.equal(source?.kind === 'video' && source.copy, false);
    assert.equal(audio?.kind === 'audio' && audio.copy, false);
  });

  it('takes a custom ladder', () => {
    const plan = planLadder({ width: 1280, height: 720, videoCodec: 'h264', audioCodec: 'aac' }, [
      { name: 'low', height: 240, videoBitrateKbps: 400, audioBitrateKbps: 64 },
    ]);
    assert.deepEqual(names(plan), ['source', 'low', 'audio']);
    const audio = plan.at(-1);
    assert.equal(audio?.kind === 'audio' && audio.audioBitrateKbps, 64);
  });

  it('exports the default ladder', () => {
    assert.deepEqual(
      DEFAULT_LADDER.map((r) => r.height),
      [720, 480, 360, 160],
    );
  });
});

/** The arguments of output `fd` (from the option after the previous output up to `pipe:fd`). */
function outputArgs(args: string[], fd: number): string[] {
  const end = args.indexOf(`pipe:${fd}`);
  assert.ok(end > 0, `no output pipe:${fd}`);
  const previous = args.lastIndexOf(`pipe:${fd - 1}`, end);
  const start = previous > 0 ? previous + 1 : args.indexOf('-map');
  return args.slice(start, end);
}

const value = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('buildFfmpegArgs', () => {
  const plan = planLadder({ width: 1280, height: 720, videoCodec: 'h264', audioCodec: 'aac' });
  const args = buildFfmpegArgs(plan, { partTargetMs: 250 });

  it('reads FLV from stdin once and splits it into every encoded rung', () => {
    assert.equal(args.filter((a) => a === '-i').length, 1);
    assert.equal(value(args, '-i'), 'pipe:0');
    assert.equal(value(args, '-f'), 'flv');
    const graph = value(args, '-filter_complex') ?? '';
    assert.match(graph, /^\[0:v:0\]split=4\[s0\]\[s1\]\[s2\]\[s3\]/);
    assert.match(graph, /scale=1280:720,setsar=1\[v0\]/);
    assert.match(graph, /scale=284:160,setsar=1\[v3\]/);
  });

  it('copies the source rung and AAC audio, each to its own pipe', () => {
    const source = outputArgs(args, 3);
    assert.deepEqual(source.slice(0, 5), ['-map', '0:v:0', '-an', '-c:v', 'copy']);
    const audio = outputArgs(args, 8);
    assert.equal(value(audio, '-map'), '0:a:0');
    assert.equal(value(audio, '-c:a'), 'copy');
  });

  it('encodes rungs with x264, keyframes where the source has them', () => {
    const r720 = outputArgs(args, 4);
    assert.equal(value(r720, '-map'), '[v0]');
    assert.equal(value(r720, '-c:v'), 'libx264');
    assert.equal(value(r720, '-tune'), 'zerolatency');
    assert.equal(value(r720, '-preset'), 'veryfast');
    assert.equal(value(r720, '-force_key_frames'), 'source');
    assert.equal(value(r720, '-fps_mode'), 'passthrough');
    assert.equal(value(r720, '-b:v'), '2800k');
  });

  it('writes fragmented CMAF with fragments shorter than the part target', () => {
    for (let fd = 3; fd <= 8; fd++) {
      const out = outputArgs(args, fd);
      assert.equal(value(out, '-f'), 'mp4');
      assert.equal(value(out, '-movflags'), '+frag_keyframe+empty_moov+default_base_moof+cmaf');
      assert.equal(Number(value(out, '-frag_duration')), fragmentDurationUs(250));
    }
    assert.ok(fragmentDurationUs(250) < 250_000);
  });

  it('encodes audio that is not AAC', () => {
    const mp3 = buildFfmpegArgs(
      planLadder({ width: 640, height: 360, videoCodec: 'h264', audioCodec: 'mp3' }),
      {
        partTargetMs: 250,
      },
    );
    const audio = outputArgs(mp3, 3 + 3);
    assert.equal(value(audio, '-c:a'), 'aac');
  });

  it('builds an audio-only command without a filter graph', () => {
    const audioOnly = buildFfmpegArgs(planLadder({ videoCodec: null, audioCodec: 'aac' }), {
      partTargetMs: 250,
      thumbnailPath: '/tmp/x.jpg',
    });
    assert.equal(audioOnly.includes('-filter_complex'), false);
    assert.equal(audioOnly.includes('/tmp/x.jpg'), false);
    assert.equal(value(outputArgs(audioOnly, 3), '-map'), '0:a:0');
  });

  it('adds a thumbnail branch when asked', () => {
    const withThumb = buildFfmpegArgs(plan, { partTargetMs: 250, thumbnailPath: '/data/t.jpg' });
    assert.match(value(withThumb, '-filter_complex') ?? '', /split=5/);
    assert.equal(withThumb.at(-1), '/data/t.jpg');
    assert.equal(value(withThumb, '-update'), '1');
  });
});
