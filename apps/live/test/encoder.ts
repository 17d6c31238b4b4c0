import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { syntheticSourceArgs, waitFor } from '@neon/testing';

/** ffmpeg pushing a small synthetic source (source + 160p rungs: cheap to transcode). */
export function encoder(url: string): ChildProcess {
  const child = spawn(
    'ffmpeg',
    syntheticSourceArgs(url, { width: 284, height: 160, videoKbps: 300, audioKbps: 64 }),
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

/** Waits for the encoder to exit (the server cut it off); a failure names what did not happen. */
export async function exited(child: ChildProcess, what = 'the encoder to exit'): Promise<void> {
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, {
    timeoutMs: 20_000,
    intervalMs: 100,
    what,
  });
}
