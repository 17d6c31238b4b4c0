/**
 * Values kept in memory up to a byte budget, the oldest stored going first
 * when a new one would exceed it. A value larger than `maxEntryBytes` is not
 * kept at all. Media caches use it: their entries are immutable, so the
 * oldest is the least likely to be asked for again.
 */
export class SizedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number,
    private readonly maxEntryBytes = maxBytes,
  ) {}

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Keeps `value` under `key` (replacing what was there); false when it is too large to keep. */
  set(key: string, value: V): boolean {
    this.delete(key);
    const bytes = this.sizeOf(value);
    if (bytes > this.maxEntryBytes || bytes > this.maxBytes) return false;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= e.bytes;
    }
    return true;
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.total -= e.bytes;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.total };
  }
}
