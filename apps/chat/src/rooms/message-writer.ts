import type { StoredMessage } from '../store/chat.repository.js';

export interface PendingMessage extends StoredMessage {
  /** Called once: null when durable, the error otherwise. */
  done(err: unknown): void;
}

/**
 * Group commit: accepted messages wait at most `flushMs` (or until `maxBatch`
 * are waiting) and are written in one statement. One write is in flight at a
 * time, so batches commit in acceptance order; what arrives meanwhile forms
 * the next batch, written as soon as the current one commits.
 */
export class MessageWriter {
  private queue: PendingMessage[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
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
    this.queue.push(message);
    if (this.running) return;
    if (this.queue.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.flushMs);
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.queue.length === 0) return;
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.write(batch);
      } catch (err) {
        for (const m of batch) m.done(err);
        continue;
      }
      // Acknowledged once delivered onwards; the next batch need not wait for that.
      const acked = this.onDurable(batch).then(
        () => batch.forEach((m) => m.done(null)),
        () => batch.forEach((m) => m.done(null)),
      );
      this.acks.add(acked);
      void acked.finally(() => this.acks.delete(acked));
    }
  }

  /** Resolves once everything accepted so far is written (or has failed). */
  async drain(): Promise<void> {
    for (let i = 0; i < 1000 && (this.queue.length > 0 || this.running); i++) {
      this.kick();
      if (this.running) await this.running;
    }
    await Promise.all([...this.acks]);
  }
}
