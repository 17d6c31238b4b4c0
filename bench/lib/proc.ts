import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';

/** User + system CPU of a process so far, in seconds (from /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields count from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / 100;
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The JSON object the child printed on its first stdout line. */
  ready: Record<string, string>;
  stop: () => Promise<void>;
}

/**
 * Starts a `tsx` child that prints one JSON line when it listens (a `url`) or,
 * for one that only takes commands, when it is ready (a `ready`). With `ipc`,
 * it is sent commands over an IPC channel (see ipc.ts).
 */
export async function startChild(
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  options: { ipc?: boolean } = {},
): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: options.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  // The first stdout line with a `url` (or `ready`) says it is ready; log lines before it are skipped.
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, string>;
        if (typeof parsed.url === 'string' || typeof parsed.ready === 'string') resolve(parsed);
      } catch {
        // not ours
      }
    });
  });
  return {
    process: child,
    pid: child.pid!,
    ready,
    stop: () => stopProcess(child),
  };
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The rest of the first line from `lines` that starts with `prefix`; rejects after `timeoutMs`. */
export function waitLine(lines: Interface, prefix: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      lines.off('line', on);
      reject(new Error(`timed out waiting for ${prefix}`));
    }, timeoutMs);
    const on = (line: string) => {
      if (!line.startsWith(prefix)) return;
      clearTimeout(timer);
      lines.off('line', on);
      resolve(line.slice(prefix.length).trim());
    };
    lines.on('line', on);
  });
}
