import type { ServerResponse } from 'node:http';

/** The reconnect delay the stream suggests to EventSource, in ms. */
export const RETRY_MS = 3000;

/** One open Server-Sent Events response. */
export class SseStream {
  /** The last notification id written: the resume point, and what a late push must exceed. */
  lastId: bigint;
  private replaying = true;
  private held: { id: string; event: string; data: string }[] = [];
  closed = false;

  constructor(
    private readonly res: ServerResponse,
    readonly userId: string | null,
    readonly channels: ReadonlySet<string>,
    readonly directory: boolean,
    /** Counts against the user's open streams (across replicas when shared). */
    readonly id: string,
    lastId: bigint,
    private readonly maxBuffered: number,
    private readonly onClose: (s: SseStream) => void,
  ) {
    this.lastId = lastId;
    res.on('close', () => this.close());
  }

  /** A notification: held while the stored ones are replayed, then written once, in id order. */
  notification(id: string, data: string): void {
    if (this.replaying) {
      this.held.push({ id, event: 'notification', data });
      return;
    }
    this.replay(id, data);
  }

  /** A stored notification the stream missed, written while live ones are held. */
  replay(id: string, data: string): void {
    if (BigInt(id) <= this.lastId) return;
    this.lastId = BigInt(id);
    this.write(`id: ${id}\nevent: notification\ndata: ${data}\n\n`);
  }

  /** The replay is over: what arrived meanwhile goes out unless the replay already sent it. */
  replayed(): void {
    this.replaying = false;
    const held = this.held;
    this.held = [];
    held.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    for (const h of held) this.notification(h.id, h.data);
  }

  /** A public event: no id, since it is not kept (Last-Event-ID stays the last notification's). */
  event(event: string, data: string): void {
    this.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    // A reader that does not keep up is cut off rather than buffered without bound; its
    // EventSource reconnects and resumes from its Last-Event-ID. A replay writes in bursts and
    // waits for the reader instead (see `keptUp`).
    if (!this.replaying && this.res.writableLength > this.maxBuffered) this.res.destroy();
  }

  /**
   * During a replay: true once what was written is down to the buffer allowance, false (and
   * the stream cut off) when the reader does not take it within `waitMs`.
   */
  async keptUp(waitMs: number): Promise<boolean> {
    if (this.closed) return false;
    if (this.res.writableLength <= this.maxBuffered) return true;
    const drained = await new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.res.off('drain', onDrain);
        this.res.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), waitMs);
      this.res.on('drain', onDrain);
      this.res.on('close', onClose);
    });
    if (!drained) this.res.destroy();
    return drained;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    if (!this.res.destroyed) this.res.end();
  }
}
