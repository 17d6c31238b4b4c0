import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A CPU quota on the transcoder: an ffmpeg (for FFMPEG_PATH) that puts every
 * invocation running x264 (the transcode ladder) into a control group of its
 * own whose CPU time is capped; the recording and everything else run free.
 * Real starvation, as on a machine too small for the ladder: the encoder is
 * throttled from outside, nothing in Neon is slowed on purpose.
 */
export interface CpuLimit {
  ffmpegPath: string;
  /** Caps the ladder at this many cores (0.25 = a quarter of one); null lifts the cap. */
  setCores(cores: number | null): void;
  /** Moves what still runs in the group out and removes it. */
  close(): void;
}

const PERIOD_US = 100_000;

/** Where the wrapper writes the ladder's pid, how the cap is set, and how it is undone. */
interface Group {
  procs: string;
  write(cores: number | null): void;
  close(): void;
}

function mounts(): { type: string; path: string; options: string }[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4)
    .map((f) => ({ type: f[2]!, path: f[1]!, options: f[3]! }));
}

/** cgroup v2 with the cpu controller (cpu.max), else v1's cpu controller (cpu.cfs_quota_us). */
function makeGroup(name: string): Group {
  const errors: string[] = [];
  for (const m of mounts().filter((x) => x.type === 'cgroup2')) {
    try {
      const controllers = readFileSync(join(m.path, 'cgroup.controllers'), 'utf8');
      if (!controllers.split(/\s+/).includes('cpu')) {
        errors.push(`${m.path}: no cpu controller (${controllers.trim() || 'none'})`);
        continue;
      }
      writeFileSync(join(m.path, 'cgroup.subtree_control'), '+cpu');
      const dir = join(m.path, name);
      mkdirSync(dir);
      return cgroup(dir, (cores) =>
        writeFileSync(
          join(dir, 'cpu.max'),
          cores === null ? `max ${PERIOD_US}` : `${Math.round(cores * PERIOD_US)} ${PERIOD_US}`,
        ),
      );
    } catch (err) {
      errors.push(`${m.path}: ${(err as Error).message}`);
    }
  }
  for (const m of mounts().filter(
    (x) => x.type === 'cgroup' && x.options.split(',').includes('cpu'),
  )) {
    try {
      const dir = join(m.path, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      return cgroup(dir, (cores) =>
        writeFileSync(
          join(dir, 'cpu.cfs_quota_us'),
          cores === null ? '-1' : String(Math.round(cores * PERIOD_US)),
        ),
      );
    } catch (err) {
      errors.push(`${m.path}: ${(err as Error).message}`);
    }
  }
  throw new Error(
    `no writable cgroup with a cpu controller${errors.length ? `: ${errors.join('; ')}` : ' is mounted'}`,
  );
}

/** A cgroup at `dir` capped by `write`; closing moves what still runs in it out and removes it. */
function cgroup(dir: string, write: Group['write']): Group {
  const procs = join(dir, 'cgroup.procs');
  return {
    procs,
    write,
    close() {
      if (!existsSync(dir)) return;
      write(null);
      const parent = join(dir, '..', 'cgroup.procs');
      for (const pid of readFileSync(procs, 'utf8').split('\n'))
        if (pid) {
          try {
            writeFileSync(parent, pid);
          } catch {
            // exited meanwhile
          }
        }
      rmdirSync(dir);
    },
  };
}

/**
 * Where no cgroup can be written (a container without a delegated cpu
 * controller), the same cap as a duty cycle, the way `cpulimit` does it: each
 * period the ladder's processes run for their share of it and are stopped
 * (SIGSTOP) for the rest. Coarser than the kernel's quota, but the encoder is
 * still starved for real and recovers for real when the cap is lifted.
 */
function signalGroup(dir: string): Group {
  const procs = join(dir, 'cpu-limited.pids');
  writeFileSync(procs, '');
  let cores: number | null = null;
  // The pids stopped this period: exactly these are continued.
  let stopped: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };
  const periodMs = PERIOD_US / 1000;
  const later = (ms: number) => {
    timer = setTimeout(cycle, Math.max(1, ms));
    // A test that forgets close() must still be able to exit.
    timer.unref();
  };
  const cycle = () => {
    if (cores === null) return;
    const runMs = Math.round(cores * periodMs);
    if (stopped.length > 0) {
      signal(stopped, 'SIGCONT');
      stopped = [];
      later(runMs);
    } else {
      stopped = readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
      signal(stopped, 'SIGSTOP');
      later(periodMs - runMs);
    }
  };
  const lift = () => {
    clearTimeout(timer);
    signal(stopped, 'SIGCONT');
    stopped = [];
  };
  return {
    procs,
    write(next) {
      lift();
      cores = next;
      cycle();
    },
    close() {
      cores = null;
      lift();
    },
  };
}

/** A cgroup capped at `cores` where this machine lets us write one, else the duty cycle. */
function openGroup(dir: string, cores: number): Group {
  if (process.env.NEON_TEST_CPU_LIMIT !== 'signals') {
    try {
      const group = makeGroup(`neon-test-${process.pid}-${randomBytes(4).toString('hex')}`);
      group.write(cores);
      return group;
    } catch {
      // no writable cgroup here: fall back to signals
    }
  }
  const group = signalGroup(dir);
  group.write(cores);
  return group;
}

/**
 * A CPU-capped transcoder in `dir` (a temporary folder of the test): a cgroup
 * quota where this machine lets us write one, else a SIGSTOP/SIGCONT duty cycle.
 */
export function cpuLimitedFfmpeg(dir: string, cores: number, ffmpeg = 'ffmpeg'): CpuLimit {
  const group = openGroup(dir, cores);
  const ffmpegPath = join(dir, 'cpu-limited-ffmpeg.sh');
  writeFileSync(
    ffmpegPath,
    `#!/bin/sh
case " $* " in
  *" libx264 "*) echo $$ >> ${JSON.stringify(group.procs)} ;;
esac
exec ${JSON.stringify(ffmpeg)} "$@"
`,
  );
  chmodSync(ffmpegPath, 0o755);
  return { ffmpegPath, setCores: (c) => group.write(c), close: () => group.close() };
}
