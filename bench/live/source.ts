// Shared by the live benchmark's items (see bench/live.ts): the synthetic source and its child processes.
import { spawn, type ChildProcess } from 'node:child_process';

export const FPS = 30;

/** Every ffmpeg this benchmark starts: killed with it, whatever way it exits. */
export const children: ChildProcess[] = [];
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/**
 * The synthetic source: testsrc2 720p30 with its frame number drawn as 16
 * black/white blocks across the top, a 440 Hz sine, H.264/AAC, keyframe every
 * second; one encode pushed to every target (tee). `sentAt(n)` estimates when
 * frame n left: with -re, frame n is read at T0 + n/30, and each progress
 * report (frame count, wall time) bounds T0 from above.
 */
export function startSource(targets: string[]) {
  const strip =
    "nullsrc=size=16x2:rate=30,format=gray,geq=lum='255*mod(floor(N/pow(2\\,X))\\,2)',scale=1280:40:flags=neighbor,format=yuv420p";
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=${FPS}`,
    '-f',
    'lavfi',
    '-i',
    strip,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-filter_complex',
    '[0:v][1:v]overlay=0:0[v]',
    '-map',
    '[v]',
    '-map',
    '2:a',
    // The tee muxer does not ask encoders for global headers itself; FLV needs them.
    '-flags',
    '+global_header',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(FPS),
    '-b:v',
    '2500k',
    '-maxrate',
    '2500k',
    '-bufsize',
    '1250k',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.1',
    '-f',
    'tee',
    targets.map((t) => `[f=flv:onfail=ignore]${t}`).join('|'),
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let t0 = Infinity;
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    const now = Date.now();
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      const m = /^frame=(\d+)/.exec(l);
      if (m && Number(m[1]) > 0) t0 = Math.min(t0, now - (Number(m[1]) * 1000) / FPS);
    }
  });
  return { child, sentAt: (frame: number) => t0 + (frame * 1000) / FPS, t0: () => t0 };
}
