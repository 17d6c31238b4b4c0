import type { StoredMessage } from '../store/chat.repository.js';

export interface PendingMessage extends StoredMessage {
  /**
   * Called once: null when durable, the error otherwise. A retry of a stored
   * message (its client id already used) gets the first one's id and is not
   * handed on.
   */
  done(err: unknown, storedId?: string): void;
}

/** How many recent flushes the cost estimate looks back on. */
const COST_SAMPLES = 16;
/**
 * How many flushes long the window is, at most: waiting is worth it in
 * proportion to what a flush costs (a broadcast to thousands of sockets), so a
 * room of a few readers waits next to nothing and a crowded one the whole window.
 */
const WINDOW_FLUSHES = 5;

/**
 * Group commit: accepted messages wait together, then the batch is written in
 * one statement and handed on (broadcast) in one go. One write is in flight
 * at a time, so batches commit in acceptance order, and a busy room costs one
 * write and one broadcast per window however many messages it carries.
 *
 * The window adapts to the load. A flush after a quiet spell (none started
 * within the window) goes at once: a message in a quiet room is not held. While
 * flushes follow each other, messages wait together for a window of a few
 * flushes' cost, at most `flushMs`: a crowded room (whose broadcast is costly)
 * coalesces up to the whole window and pays one socket write per window,
 * a small one hardly waits. The window is a latency budget counted from when a
 * message arrived: the wait ends early enough that the write and the broadcast
 * (the slowest of the last few flushes) still finish within it. Broadcasting to
 * thousands of sockets takes tens of milliseconds, so a window that ignored it
 * would add that to every message's delay.
 */
export class MessageWriter {
  private queue: { message: PendingMessage; at: number }[] = [];
  /** Milliseconds from write start to handed on, of the last flushes (a ring). */
  private readonly costs = new Float64Array(COST_SAMPLES);
  private costAt = 0;
  /** When the last flush started (performance.now()). */
  private lastStart = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private draining = false;
  private readonly acks = new Set<Promise<void>>();

  constructor(
    /** Resolves with the id each entry is stored under (nothing: each under its own). */
    private readonly write: (batch: readonly StoredMessage[]) => Promise<readonly string[] | void>,
    private readonly onDurable: (batch: readonly PendingMessage[]) => Promise<void>,
    private readonly flushMs: number,
    private readonly maxBatch: number,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  /** `receivedAt`: when the message arrived (performance.now()), if earlier than now. */
  enqueue(message: PendingMessage, receivedAt = performance.now()): void {
    this.queue.push({ message, at: receivedAt });
    if (this.queue.length >= this.maxBatch && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.running || this.timer || this.queue.length === 0) return;
    const now = performance.now();
    const cost = this.cost();
    const window = Math.min(this.flushMs, WINDOW_FLUSHES * cost);
    const quiet = now - this.lastStart >= window;
    const due =
      this.draining || quiet || this.queue.length >= this.maxBatch
        ? 0
        : this.queue[0]!.at + window - cost - now;
    if (due <= 0) this.start();
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        this.start();
      }, due);
  }

  private start(): void {
    if (this.running || this.queue.length === 0) return;
    this.lastStart = performance.now();
    this.running = this.flushOne().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  /** What a flush is expected to take: the slowest of the recent ones. */
  private cost(): number {
    let max = 0;
    for (const c of this.costs) if (c > max) max = c;
    return max;
  }

  private async flushOne(): Promise<void> {
    const taken = this.queue.splice(0, this.maxBatch).map((q) => q.message);
    const started = performance.now();
    let stored: readonly string[] | void;
    try {
      stored = await this.write(taken);
    } catch (err) {
      for (const m of taken) m.done(err);
      return;
    }
    const batch = stored ? taken.filter((m, i) => stored[i] === m.message.id) : taken;
    if (stored)
      taken.forEach((m, i) => {
        if (stored[i] !== m.message.id) m.done(null, stored[i]);
      });
    if (batch.length === 0) return;
    // onDurable broadcasts before it returns its promise: that is the cost to plan for.
    // Acknowledged once delivered onwards; the next batch need not wait for that.
    const delivered = this.onDurable(batch);
    this.costs[this.costAt++ % COST_SAMPLES] = performance.now() - started;
    const acked = delivered.then(
      () => batch.forEach((m) => m.done(null)),
      () => batch.forEach((m) => m.done(null)),
    );
    this.acks.add(acked);
    void acked.finally(() => this.acks.delete(acked));
  }

  /** Writes everything accepted so far without waiting out the window; resolves once acknowledged. */
  async drain(): Promise<void> {
    this.draining = true;
    for (let i = 0; i < 10_000 && (this.queue.length > 0 || this.running); i++) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      this.schedule();
      if (this.running) await this.running;
    }
    await Promise.all([...this.acks]);
  }
}
