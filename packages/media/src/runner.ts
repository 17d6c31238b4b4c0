import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface MediaLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines ffmpeg wrote to stderr. */
  stderr: string;
  command: string;
}

export interface RunFfmpegOptions {
  ffmpegPath: string;
  args: string[];
  /** Number of extra output pipes, fds 3…3+outputs-1. */
  outputs: number;
  logger: MediaLogger;
  onOutput: (index: number, chunk: Buffer) => void;
  onExit: (exit: FfmpegExit) => void;
  signal?: AbortSignal;
  /**
   * Called with the media time ffmpeg has written (µs), about twice a second
   * (`-progress` on stdout): how far behind real time it is running.
   */
  onProgress?: (outTimeUs: number) => void;
}

export interface FfmpegProcess {
  readonly stdin: Writable;
  readonly child: ChildProcess;
  readonly command: string;
  /** Closes stdin so ffmpeg flushes and exits; kills it after `graceMs` (never when Infinity). */
  finish(graceMs?: number): Promise<FfmpegExit>;
  kill(): void;
  readonly exited: Promise<FfmpegExit>;
}

const STDERR_TAIL = 8 * 1024;

export function quoteCommand(bin: string, args: string[]): string {
  return [bin, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/**
 * Runs one ffmpeg with FLV on stdin and one fragmented MP4 per extra pipe.
 * Logs the command at start and, on a failure, the command with the tail of
 * stderr (ffmpeg's only account of what went wrong).
 */
export function runFfmpeg(opts: RunFfmpegOptions): FfmpegProcess {
  const onProgress = opts.onProgress;
  const args = onProgress
    ? ['-progress', 'pipe:1', '-stats_period', '0.5', ...opts.args]
    : opts.args;
  const command = quoteCommand(opts.ffmpegPath, args);
  const stdio: ('pipe' | 'ignore')[] = [
    'pipe',
    onProgress ? 'pipe' : 'ignore',
    'pipe',
    ...Array<'pipe'>(opts.outputs).fill('pipe'),
  ];
  const child = spawn(opts.ffmpegPath, args, {
    stdio,
    signal: opts.signal,
    killSignal: 'SIGKILL',
  });
  opts.logger.info({ command }, 'ffmpeg started');
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  if (onProgress && child.stdout) {
    let pending = '';
    let outTimeUs: number | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const eq = line.indexOf('=');
        const key = line.slice(0, eq);
        const value = line.slice(eq + 1).trim();
        if (key === 'out_time_us' || key === 'out_time_ms') {
          // Both keys carry microseconds; N/A before the first output packet.
          const n = Number(value);
          if (Number.isFinite(n) && n >= 0) outTimeUs = n;
        } else if (key === 'progress' && outTimeUs !== null) {
          onProgress(outTimeUs);
        }
      }
    });
    child.stdout.on('error', () => undefined);
  }
  for (let i = 0; i < opts.outputs; i++) {
    const stream = child.stdio[3 + i] as Readable | null | undefined;
    stream?.on('data', (chunk: Buffer) => opts.onOutput(i, chunk));
    stream?.on('error', () => undefined);
  }
  const stdin = child.stdin;
  if (stdin === null) throw new Error('ffmpeg has no stdin');
  // ffmpeg exiting closes the pipe under a pending write; the exit handler reports it.
  stdin.on('error', () => undefined);

  let settled = false;
  const exited = new Promise<FfmpegExit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      const exit = { code, signal, stderr: stderr.trim(), command };
      if (code !== 0) opts.logger.error(exit, 'ffmpeg failed');
      opts.onExit(exit);
      resolve(exit);
    };
    child.on('error', (err) => {
      stderr += `\n${err.message}`;
      done(null, null);
    });
    child.on('close', done);
  });

  return {
    stdin,
    child,
    command,
    exited,
    kill: () => {
      if (!settled) child.kill('SIGKILL');
    },
    finish: async (graceMs = 5000) => {
      stdin.end();
      // setTimeout would fire at once for Infinity.
      const timer = Number.isFinite(graceMs)
        ? setTimeout(() => {
            if (!settled) child.kill('SIGKILL');
          }, graceMs)
        : null;
      const exit = await exited;
      if (timer) clearTimeout(timer);
      return exit;
    },
  };
}
