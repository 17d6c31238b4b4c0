import type { StoredMessage } from '../store/chat.repository.js';

export interface PendingMessage extends StoredMessage {
  /** Called once: null when durable, the error otherwise. */
  done(err: unknown): void;
}

/**
 * Group commit: an accepted message waits until the oldest waiting one is
 * `flushMs` old (or `maxBatch` are waiting), then the batch is written in one
 * statement. One write is in flight at a time, so batches commit in
 * acceptance order, and a busy room costs one write and one broadcast per
 * window however many messages it carries.
 */
export class MessageWriter {
  private queue: { message: PendingMessage; at: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private draining = false;
  private readonly acks = new Set<Promise<void>>();

  constructor(
    private readonly write: (batch: readonly StoredMessage[]) => Promise<void>,
    private readonly onDurable: (batch: readonly PendingMessage[]) => Promise<void>,
    private readonly flushMs: number,
    private readonly maxBatch: number,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  enqueue(message: PendingMessage): void {
    this.queue.push({ message, at: Date.now() });
    if (this.queue.length >= this.maxBatch && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.running || this.timer || this.queue.length === 0) return;
    const due =
      this.draining || this.queue.length >= this.maxBatch
        ? 0
        : this.queue[0]!.at + this.flushMs - Date.now();
    if (due <= 0) this.start();
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        this.start();
      }, due);
  }

  private start(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = this.flushOne().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  private async flushOne(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch).map((q) => q.message);
    try {
      await this.write(batch);
    } catch (err) {
      for (const m of batch) m.done(err);
      return;
    }
    // Acknowledged once delivered onwards; the next batch need not wait for that.
    const acked = this.onDurable(batch).then(
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
