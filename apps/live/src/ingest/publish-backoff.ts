import { addressGroup } from './admission.js';

export interface PublishBackoffOptions {
  /** Wrong keys an address may send per `windowMs` before it has to wait. */
  freeFailures?: number;
  windowMs?: number;
  /** The first wait; each further wrong key while over the free count doubles it. */
  firstWaitMs?: number;
  /** The longest wait. 0 turns the back-off off. */
  maxWaitMs: number;
  /** Addresses remembered; the least recently seen is forgotten first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  /** Times of the wrong keys within the window, oldest first. */
  failures: number[];
  /** Waits imposed since the address was last quiet for a whole window after one. */
  strikes: number;
  /** No publish is tried before this. */
  until: number;
}

/**
 * Slows down stream-key guessing per address (IPv6 per /64): a few wrong
 * keys a minute are free, after that every wrong key imposes a wait of 10 s,
 * doubling up to the maximum, until the address has kept quiet for a minute
 * after its last wait. While an address waits its publishes are
 * refused without looking at the key, so guessing during the wait learns
 * nothing. A correct key does not clear the record: an address that owns
 * one key could otherwise reset its count between guesses at other keys.
 * The table is bounded; under a flood of addresses the oldest are forgotten.
 */
export class PublishBackoff {
  private readonly entries = new Map<string, Entry>();
  private readonly freeFailures: number;
  private readonly windowMs: number;
  private readonly firstWaitMs: number;
  private readonly maxWaitMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: PublishBackoffOptions) {
    this.freeFailures = o.freeFailures ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.firstWaitMs = o.firstWaitMs ?? 10_000;
    this.maxWaitMs = o.maxWaitMs;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds this address must still wait before a publish is tried; 0 when it may. */
  waitMs(address: string | undefined): number {
    const e = this.entries.get(addressGroup(address));
    return e ? Math.max(0, e.until - this.now()) : 0;
  }

  /** Records a wrong stream key from this address; returns the wait it now has (ms). */
  failed(address: string | undefined): number {
    if (this.maxWaitMs <= 0) return 0;
    const group = addressGroup(address);
    const now = this.now();
    let e = this.entries.get(group);
    if (e) {
      // Least recently seen first: move it to the end.
      this.entries.delete(group);
    } else {
      while (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
      }
      e = { failures: [], strikes: 0, until: 0 };
    }
    this.entries.set(group, e);
    while (e.failures.length > 0 && now - e.failures[0]! >= this.windowMs) e.failures.shift();
    // Quiet for a whole window after the last wait ended: the doubling starts over.
    if (now >= e.until + this.windowMs) e.strikes = 0;
    e.failures.push(now);
    // Once waiting has begun, every wrong key until a quiet window doubles the wait.
    if (e.strikes > 0 || e.failures.length > this.freeFailures) {
      // Only the newest few matter for the count; keep the list short.
      e.failures.splice(0, e.failures.length - (this.freeFailures + 1));
      const wait = Math.min(this.firstWaitMs * 2 ** Math.min(e.strikes, 30), this.maxWaitMs);
      e.until = now + wait;
      e.strikes++;
      return wait;
    }
    return 0;
  }
}
