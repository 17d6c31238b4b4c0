/** One rendition as the quality menu shows it; `index` is the player's level index. */
export interface QualityLevel {
  index: number;
  height: number;
  width: number;
  bitrate: number;
  name?: string | undefined;
}

/** "720p", "1080p60"-style label; renditions of the same height are told apart by bitrate. */
export function levelLabel(level: QualityLevel, all: readonly QualityLevel[]): string {
  const base = level.height > 0 ? `${level.height}p` : (level.name ?? `Level ${level.index + 1}`);
  const twins = all.filter((l) => l.height === level.height).length > 1;
  const source = level.name?.toLowerCase() === 'source' ? ' (source)' : '';
  return twins ? `${base} · ${Math.round(level.bitrate / 1000)} kb/s${source}` : `${base}${source}`;
}

/** Highest first, as every streaming site lists them. */
export function sortLevels(levels: readonly QualityLevel[]): QualityLevel[] {
  return [...levels].sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
}

const KEY = 'neon:volume';

export interface VolumeSetting {
  volume: number;
  muted: boolean;
}

export function loadVolume(): VolumeSetting {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw) {
      const v = JSON.parse(raw) as Partial<VolumeSetting>;
      if (typeof v.volume === 'number' && v.volume >= 0 && v.volume <= 1) {
        return { volume: v.volume, muted: v.muted === true };
      }
    }
  } catch {
    // Storage can be disabled or hold junk: fall back to the default.
  }
  return { volume: 0.8, muted: false };
}

export function saveVolume(v: VolumeSetting): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(v));
  } catch {
    // Private modes may refuse writes; the setting then lasts for this page only.
  }
}
