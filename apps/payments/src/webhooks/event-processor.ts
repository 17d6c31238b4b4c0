import type { Db } from '@neon/db';
import { DrainLoop, type Logger } from '@neon/kit';
import { UnmatchedEvent, type SubscriptionService } from '../subscriptions/subscription.service.js';
import type { ProviderUpdate } from './stripe-events.js';
import { WebhookRepository as repo, type StoredEvent } from './webhook.repository.js';

export interface EventProcessorOptions {
  /** Reads a stored event's body into what it means (per provider). */
  read: (provider: string, body: string) => ProviderUpdate;
  maxAttempts: number;
  retryMs: number;
  clock: () => number;
  /** Called after an event changed something (publishes the outbox). */
  applied: () => void;
  intervalMs?: number;
}

/**
 * Processes stored provider events from the table, oldest provider time
 * first, each in one transaction with all its effects; a failure rolls the
 * effects back and schedules a retry (doubling), parking the event after the
 * last try. Replicas share the work through SKIP LOCKED, and a crash between
 * storing and processing leaves the event pending for the next start.
 */
export class EventProcessor {
  private readonly loop: DrainLoop;

  constructor(
    private readonly db: Db,
    private readonly service: SubscriptionService,
    private readonly logger: Logger,
    private readonly options: EventProcessorOptions,
  ) {
    this.loop = new DrainLoop({
      pass: async () => {
        // An event that fails is tried again on a later pass, not over and over in this one.
        const failed: string[] = [];
        while (await this.one(failed)) {
          /* next */
        }
      },
      intervalMs: options.intervalMs ?? 1000,
      onError: (err) =>
        logger.error({ err }, 'processing stored payment events failed; will retry'),
    });
  }

  start(): void {
    this.loop.start();
  }

  kick(): void {
    this.loop.kick();
  }

  /** Processes every due event; resolves when none is left. */
  drain(): Promise<void> {
    return this.loop.drain();
  }

  private async one(failed: string[]): Promise<boolean> {
    const now = new Date(this.options.clock());
    // Set inside the transaction's callback; read after it failed.
    const claimed: { ev: StoredEvent | null } = { ev: null };
    try {
      const done = await this.db.tx(async (q) => {
        const ev = await repo.claimNext(q, now, failed);
        if (!ev) return false;
        claimed.ev = ev;
        const update = this.options.read(ev.provider, ev.body);
        await this.service.apply(q, ev.provider, update);
        if (update.kind === 'ignored') {
          this.logger.info(
            { provider: ev.provider, eventId: ev.event_id, type: ev.type, reason: update.reason },
            'payment event acknowledged and not used',
          );
          await repo.finish(q, ev.provider, ev.event_id, 'ignored', update.reason);
        } else {
          await repo.finish(q, ev.provider, ev.event_id, 'processed', null);
          await repo.wakeWaiting(q, ev.provider, now);
        }
        return true;
      });
      if (done) this.options.applied();
      return done;
    } catch (err) {
      const ev = claimed.ev;
      if (!ev) throw err;
      const unmatched = err instanceof UnmatchedEvent;
      const reason = unmatched ? err.message : 'processing failed';
      if (unmatched)
        this.logger.warn(
          { provider: ev.provider, eventId: ev.event_id, reason },
          'payment event not matched yet',
        );
      else
        this.logger.error(
          { err, provider: ev.provider, eventId: ev.event_id },
          'payment event failed',
        );
      failed.push(ev.event_id);
      const delay = this.options.retryMs * 2 ** Math.min(ev.attempts, 20);
      await this.db.tx((q) =>
        repo.failed(
          q,
          ev.provider,
          ev.event_id,
          reason,
          new Date(now.getTime() + delay),
          this.options.maxAttempts,
        ),
      );
      return true;
    }
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
