/**
 * The reads in flight per key. A cache that remembers only what it was asked
 * about must still hear a change that lands while its first read of that key
 * is in flight: that read may have seen the row before the change.
 */
export class ReadsInFlight {
  private readonly count = new Map<string, number>();

  has(key: string): boolean {
    return this.count.has(key);
  }

  async during<T>(key: string, read: () => Promise<T>): Promise<T> {
    this.count.set(key, (this.count.get(key) ?? 0) + 1);
    try {
      return await read();
    } finally {
      const left = (this.count.get(key) ?? 1) - 1;
      if (left > 0) this.count.set(key, left);
      else this.count.delete(key);
    }
  }
}
