import type { Bus } from '@neon/bus';
import type { Logger } from '@neon/kit';
import type { ViewerCounter } from './viewer-counter.js';

/**
 * Counts players per channel and publishes `live.viewers.updated.v1` when a
 * channel's count changes, at most once per interval.
 */
export class ViewersService {
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly counter: ViewerCounter,
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly liveChannels: () => { channel: string; broadcastId: string }[],
  ) {}

  touch(channel: string, player: string): void {
    this.counter
      .touch(channel, player)
      .catch((err: unknown) => this.logger.warn({ err }, 'viewer count update failed'));
  }

  async count(channel: string): Promise<number> {
    try {
      return await this.counter.count(channel);
    } catch (err) {
      this.logger.warn({ err }, 'viewer count read failed');
      return 0;
    }
  }

  /** The players last counted on these channels: no store round trip, so a scrape costs nothing. */
  watching(channels: readonly string[]): number {
    let n = 0;
    for (const c of channels) n += this.last.get(c) ?? 0;
    return n;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One round: publish the channels whose count moved since the last round. */
  async tick(): Promise<void> {
    for (const { channel, broadcastId } of this.liveChannels()) {
      const viewers = await this.count(channel);
      if (this.last.get(channel) === viewers) continue;
      this.last.set(channel, viewers);
      await this.bus
        .publish('live.viewers.updated.v1', { channel, broadcastId, viewers })
        .catch((err: unknown) => this.logger.warn({ err }, 'could not publish a viewer count'));
    }
  }

  /** The broadcast ended: the next one starts from zero. */
  async reset(channel: string): Promise<void> {
    this.last.delete(channel);
    await this.counter.forget(channel).catch(() => undefined);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
