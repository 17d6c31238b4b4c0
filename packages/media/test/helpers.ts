import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BoxStreamSplitter, RenditionPackager } from '@neon/media';

const run = promisify(execFile);

/** The wall clock the test packagers run on. */
export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A packager with the live defaults (250 ms parts, 2 s segments) on a fixed clock. */
export function packager(name = 'v', windowSegments = 6): RenditionPackager {
  return new RenditionPackager(name, {
    partTargetMs: 250,
    segmentTargetMs: 2000,
    windowSegments,
    now: () => T0,
  });
}

export const FFMPEG = 'ffmpeg';
export const FFPROBE = 'ffprobe';

/** Fragmented MP4 made by ffmpeg the way the pipeline asks for it: one track, fragments of ~200 ms. */
export async function makeFmp4(
  kind: 'video' | 'audio',
  opts: { seconds?: number; gop?: number } = {},
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'neon-media-'));
  const out = join(dir, 'out.mp4');
  const seconds = String(opts.seconds ?? 3);
  const input =
    kind === 'video'
      ? [
          '-f',
          'lavfi',
          '-i',
          `testsrc2=size=320x180:rate=30`,
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-g',
          String(opts.gop ?? 30),
        ]
      : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', 'aac'];
  try {
    await run(FFMPEG, [
      '-hide_banner',
      '-loglevel',
      'error',
      ...input,
      '-t',
      seconds,
      '-f',
      'mp4',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof+cmaf',
      '-frag_duration',
      '200000',
      out,
    ]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The init section and fragments of a whole fMP4 file. */
export function split(bytes: Buffer): { init: Buffer; fragments: Buffer[] } {
  const units = new BoxStreamSplitter().push(bytes);
  const init = units.find((u) => u.kind === 'init');
  if (init?.kind !== 'init') throw new Error('no init section');
  return {
    init: init.bytes,
    fragments: units.flatMap((u) => (u.kind === 'fragment' ? [u.bytes] : [])),
  };
}

export async function ffprobeJson(
  path: string,
  extra: string[] = [],
): Promise<{
  streams?: { codec_name?: string; codec_type?: string; width?: number; height?: number }[];
  format?: { duration?: string };
  frames?: { key_frame?: number; pts_time?: string }[];
}> {
  const { stdout } = await run(
    FFPROBE,
    ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', ...extra, path],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout);
}

export const silentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
