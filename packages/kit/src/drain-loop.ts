/**
 * A worker's "do what is due" loop: `pass` runs on a timer and whenever
 * `kick`ed. A kick during a pass is folded into one more pass right after
 * it, so work queued meanwhile does not wait for the timer, and two passes
 * never run at once in this process. A failed pass is reported and tried
 * again at the next tick.
 */
export class DrainLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly o: {
      /** Does what is due; resolves when nothing is left. */
      pass: () => Promise<void>;
      intervalMs: number;
      onError: (err: unknown) => void;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.o.intervalMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    void this.drain().catch(this.o.onError);
  }

  /** Resolves when a pass has run after this call and nothing is left. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.o.pass();
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
