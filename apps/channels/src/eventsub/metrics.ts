import type { EventSubMessageType } from '@neon/contracts';
import { Counter, Gauge, type Registry } from '@neon/kit';

export interface EventSubMetrics {
  /** One attempt at a message, and whether the callback took it. */
  attempt(kind: EventSubMessageType, result: 'sent' | 'failed'): void;
}

/** Webhook attempts by message type and result, and the messages waiting (read at scrape time). */
export function registerEventSubMetrics(
  registry: Registry,
  depth: () => Promise<number>,
): EventSubMetrics {
  const attempts = new Counter({
    name: 'channels_eventsub_deliveries_total',
    help: 'Webhook attempts by message type and result (sent: a 2xx, and the challenge echoed; failed: anything else)',
    labelNames: ['message_type', 'result'],
    registers: [registry],
  });
  new Gauge({
    name: 'channels_eventsub_queue_depth',
    help: 'Webhook messages waiting to be sent or retried, all replicas together',
    registers: [registry],
    async collect() {
      // A scrape must not fail because the database is slow or closing: the gauge keeps its last value.
      try {
        this.set(await depth());
      } catch {
        /* keeps the last value */
      }
    },
  });
  return {
    attempt: (kind, result) => attempts.inc({ message_type: kind, result }),
  };
}
