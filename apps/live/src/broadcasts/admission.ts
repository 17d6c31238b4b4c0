import type { TranscodeHealth } from './pipeline.js';

/** What this replica carries against what it can. */
export interface CapacityReport {
  /** Cores × target share: the CPU the broadcasts may use together. */
  capacityCores: number;
  /** CPU the broadcasts' ffmpeg processes use now (those not yet measured count as 0). */
  loadCores: number;
  broadcasts: number;
  /** A broadcast behind real time even with its ladder at the lowest rung. */
  saturated: number;
  /** Milliseconds since one was last behind at its lowest rung, while that still holds new ones off. */
  saturatedAgoMs: number | null;
  full: boolean;
}

/**
 * Whether this replica takes another broadcast. Full when the measured cost
 * of its broadcasts reaches the capacity, or when one is behind real time with
 * nothing left to shed: another broadcast would only make every one of them
 * later. A replica that was saturated stays full for `holdMs` after: a
 * saturated ladder catches up for a moment between two slow stretches, and
 * admitting a broadcast in that moment is what makes the next one.
 */
export class Admission {
  private lastSaturatedAt = -Infinity;

  constructor(
    private readonly capacityCores: number,
    private readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  assess(broadcasts: number, healths: readonly TranscodeHealth[]): CapacityReport {
    const loadCores = healths.reduce((a, h) => a + (h.costCores ?? 0), 0);
    const saturated = healths.filter((h) => h.saturated).length;
    const now = this.now();
    if (saturated > 0) this.lastSaturatedAt = now;
    const ago = now - this.lastSaturatedAt;
    const holding = saturated === 0 && broadcasts > 0 && ago < this.holdMs;
    return {
      capacityCores: this.capacityCores,
      loadCores: Math.round(loadCores * 100) / 100,
      broadcasts,
      saturated,
      saturatedAgoMs: holding ? ago : null,
      full: loadCores >= this.capacityCores || saturated > 0 || holding,
    };
  }
}
