import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { startSmallEncoder, waitFor } from '@neon/testing';

/** ffmpeg pushing a small synthetic source (source + 160p rungs: cheap to transcode). */
export const encoder = startSmallEncoder;

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
