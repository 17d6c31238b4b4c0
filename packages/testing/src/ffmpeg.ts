import { spawn, type ChildProcess } from 'node:child_process';

export interface SyntheticSource {
  width?: number;
  height?: number;
  fps?: number;
  /** Frames between keyframes; one second by default. */
  gop?: number;
  videoKbps?: number;
  audioKbps?: number;
  preset?: 'ultrafast' | 'superfast' | 'veryfast';
  /** Stop after this many seconds; runs until killed otherwise. */
  seconds?: number;
  /** Real time (`-re`), as an encoder would send it. */
  realtime?: boolean;
  logLevel?: 'error' | 'warning';
}

/**
 * ffmpeg arguments for the synthetic source the tests publish: testsrc2 +
 * a sine tone, H.264/AAC, a keyframe every second, as FLV to `output`
 * (an rtmp:// URL, a file, or `-` for stdout).
 */
export function syntheticSourceArgs(output: string, source: SyntheticSource = {}): string[] {
  const fps = source.fps ?? 30;
  return [
    '-hide_banner',
    '-loglevel',
    source.logLevel ?? 'error',
    ...(source.realtime === false ? [] : ['-re']),
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${source.width ?? 1280}x${source.height ?? 720}:rate=${fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    ...(source.seconds === undefined ? [] : ['-t', String(source.seconds)]),
    '-c:v',
    'libx264',
    '-preset',
    source.preset ?? 'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(source.gop ?? fps),
    '-keyint_min',
    String(source.gop ?? fps),
    '-b:v',
    `${source.videoKbps ?? 2500}k`,
    '-c:a',
    'aac',
    '-b:a',
    `${source.audioKbps ?? 128}k`,
    '-f',
    'flv',
    output,
  ];
}

/**
 * ffmpeg publishing a small synthetic source (284×160: a source and a 160p
 * rung, cheap to transcode) to `url` until it is killed or cut off; killed
 * with the test process.
 */
export function startSmallEncoder(url: string): ChildProcess {
  const child = spawn(
    'ffmpeg',
    syntheticSourceArgs(url, { width: 284, height: 160, videoKbps: 300, audioKbps: 64 }),
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}
