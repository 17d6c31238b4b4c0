// Item 3 of bench:live (see bench/live.ts): transcoding CPU, the whole ladder in one ffmpeg
// against one ffmpeg per rung.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildFfmpegArgs, planLadder, type PlannedRendition, type SourceInfo } from '@neon/media';
import { FPS } from './source.js';

const run = promisify(execFile);

/** CPU-seconds (user + system) of reaped children of this process, from /proc/self/stat. */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

async function timed(commands: string[][]): Promise<{ cpu: number; wall: number }> {
  const cpu0 = childCpuSeconds();
  const t0 = Date.now();
  await Promise.all(commands.map((args) => run('ffmpeg', args, { maxBuffer: 1 << 24 })));
  return { cpu: childCpuSeconds() - cpu0, wall: (Date.now() - t0) / 1000 };
}

function fileArgs(plan: PlannedRendition[], input: string): string[] {
  return [
    '-y',
    ...buildFfmpegArgs(plan, { partTargetMs: 250 }).map((a) =>
      a === 'pipe:0' ? input : /^pipe:\d+$/.test(a) ? '/dev/null' : a,
    ),
  ];
}

/** The ladder in one ffmpeg, one ffmpeg per rung, and passthrough, over `seconds` of 720p30 media. */
export async function transcoding(dir: string, seconds: number) {
  const input = join(dir, 'source.flv');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=${FPS}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    String(FPS),
    '-b:v',
    '2500k',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-f',
    'flv',
    '-y',
    input,
  ]);
  const source: SourceInfo = {
    width: 1280,
    height: 720,
    fps: FPS,
    videoCodec: 'h264',
    audioCodec: 'aac',
  };
  const plan = planLadder(source);
  const one = await timed([fileArgs(plan, input)]);
  const perRung = await timed(plan.map((r) => fileArgs([r], input)));
  const passthrough = await timed([fileArgs(planLadder(source, []), input)]);
  const cores = cpus().length;
  const perMediaSecond = (x: { cpu: number }) => Math.round((x.cpu / seconds) * 1000) / 1000;
  return {
    renditions: plan.map((r) => r.name),
    mediaSeconds: seconds,
    oneProcess: {
      cpuSecondsPerMediaSecond: perMediaSecond(one),
      realTimeFactor: Math.round((seconds / one.wall) * 100) / 100,
    },
    processPerRung: { cpuSecondsPerMediaSecond: perMediaSecond(perRung) },
    ratio: Math.round((one.cpu / perRung.cpu) * 1000) / 1000,
    passthrough: { cpuSecondsPerMediaSecond: perMediaSecond(passthrough) },
    cores,
    /** Upper bounds from ffmpeg CPU alone (the packager and origin take some more). */
    concurrent720p30Broadcasts: {
      defaultLadder: Math.floor(cores / (one.cpu / seconds)),
      passthrough: Math.floor(cores / Math.max(0.001, passthrough.cpu / seconds)),
    },
  };
}

/** `transcoding` in a scratch folder of its own, removed afterwards. */
export async function transcodingIn(work: string, seconds: number) {
  try {
    return await transcoding(work, seconds);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
