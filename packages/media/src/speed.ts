import { readFileSync } from 'node:fs';

/**
 * Media time a process has produced against the wall clock, smoothed over a
 * window: 1 means real time, 0.7 means it falls 0.3 s further behind every
 * second. A transcoder fed at real time cannot go much above 1, so this says
 * whether it keeps up, not how much room it has left (see CpuMeter for that).
 */
export class SpeedMeter {
  private samples: { wallMs: number; mediaMs: number }[] = [];

  constructor(
    private readonly windowMs = 10_000,
    /** No figure until the samples span this much (the first seconds are ffmpeg warming up). */
    private readonly minSpanMs = windowMs / 2,
  ) {}

  reset(): void {
    this.samples = [];
  }

  push(wallMs: number, mediaMs: number): void {
    this.samples.push({ wallMs, mediaMs });
    const from = wallMs - this.windowMs;
    while (this.samples.length > 2 && this.samples[1]!.wallMs <= from) this.samples.shift();
  }

  /** Media seconds per wall second over the window, or null before there is enough of it. */
  speed(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined) return null;
    const span = last.wallMs - first.wallMs;
    if (span < this.minSpanMs) return null;
    return Math.max(0, (last.mediaMs - first.mediaMs) / span);
  }
}

/** Linux reports process CPU time in these ticks (USER_HZ, 100 on every common kernel). */
const CLOCK_TICKS = 100;

/** CPU seconds a process has used (user + system), or null where /proc cannot tell. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return (utime + stime) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Cores a process keeps busy, measured over a window of CPU time samples. */
export class CpuMeter {
  private samples: { wallMs: number; cpuSeconds: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  reset(): void {
    this.samples = [];
  }

  push(wallMs: number, cpuSeconds: number | null): void {
    if (cpuSeconds === null) return;
    this.samples.push({ wallMs, cpuSeconds });
    const from = wallMs - this.windowMs;
    while (this.samples.length > 2 && this.samples[1]!.wallMs <= from) this.samples.shift();
  }

  /** Cores in use over the window (1.5 = one and a half cores), or null without two samples. */
  cores(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.wallMs - first.wallMs < 1000) return null;
    return Math.max(
      0,
      (last.cpuSeconds - first.cpuSeconds) / ((last.wallMs - first.wallMs) / 1000),
    );
  }
}

/** When the transcode ladder sheds a rung and when it may take one back. */
export interface ShedPolicy {
  /** Shed when the speed over the window stays under this (default 0.95). */
  minSpeed: number;
  /** Or when the transcoder is this many seconds behind its input (default 3). */
  maxBacklogSeconds: number;
  /** Speed is measured over this window, ms (default 10000). */
  windowMs: number;
  /**
   * A shed rung comes back only after the ladder has kept up this long (default
   * 60000); each shed doubles the wait for that broadcast (up to 16×), so a
   * machine at the edge does not flap between two ladders.
   */
  restoreAfterMs: number;
  /**
   * ...and only when the machine's idle cores cover the rung's estimated cost
   * (the ladder's measured cores × the rung's share of its pixels) this many
   * times over (default 1.3).
   */
  restoreHeadroom: number;
}

export const DEFAULT_SHED_POLICY: ShedPolicy = {
  minSpeed: 0.95,
  maxBacklogSeconds: 3,
  windowMs: 10_000,
  restoreAfterMs: 60_000,
  restoreHeadroom: 1.3,
};

/** What the transcoder's figures mean for the ladder right now. */
export interface LadderReading {
  speed: number | null;
  backlogSeconds: number;
  /** Since the ladder last changed (started, shed or restored a rung), ms. */
  sinceChangeMs: number;
  /** Consecutive sheds so far (restores do not reset it). */
  sheds: number;
  /** Cores the ladder process keeps busy, when measured. */
  ladderCores: number | null;
  /** Cores idle on the machine, when measured. */
  idleCores: number | null;
  /** Share of the active ladder's pixel rate the rung that would come back adds. */
  restoreShare: number | null;
}

/** 'shed' the most expensive rung, 'restore' the last one shed, or 'hold'. */
export function shedDecision(r: LadderReading, p: ShedPolicy): 'shed' | 'restore' | 'hold' {
  const behind =
    r.backlogSeconds > p.maxBacklogSeconds || (r.speed !== null && r.speed < p.minSpeed);
  if (behind) return r.sinceChangeMs >= Math.min(p.windowMs / 2, 5000) ? 'shed' : 'hold';
  if (r.restoreShare === null) return 'hold';
  const wait = p.restoreAfterMs * Math.min(16, 2 ** Math.max(0, r.sheds - 1));
  if (r.sinceChangeMs < wait || r.speed === null || r.backlogSeconds > 1) return 'hold';
  if (r.ladderCores === null || r.idleCores === null) return 'restore';
  return r.idleCores >= r.ladderCores * r.restoreShare * p.restoreHeadroom ? 'restore' : 'hold';
}

/** Idle cores of the whole machine over a window, from the kernel's per-CPU idle time. */
export class HostIdleMeter {
  private samples: { wallMs: number; idleSeconds: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  push(wallMs: number, idleSeconds: number): void {
    this.samples.push({ wallMs, idleSeconds });
    const from = wallMs - this.windowMs;
    while (this.samples.length > 2 && this.samples[1]!.wallMs <= from) this.samples.shift();
  }

  idleCores(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.wallMs - first.wallMs < 1000) return null;
    return Math.max(
      0,
      (last.idleSeconds - first.idleSeconds) / ((last.wallMs - first.wallMs) / 1000),
    );
  }
}
