import { MemoryBus } from './memory.js';
import { JetStreamBus } from './jetstream.js';
import type { Bus, BusLogger } from './types.js';

export * from './types.js';
export { MemoryBus } from './memory.js';
export { JetStreamBus } from './jetstream.js';
export { EventValidationError, makeEnvelope, parseEnvelope } from './envelope.js';
export { handleOnce, SeenIds } from './dedupe.js';
export { registerBusMetrics } from './metrics.js';
export { enqueueEvent, OutboxRelay, outboxTableSql, type OutboxRelayOptions } from './outbox.js';

export interface OpenBusOptions {
  /** JetStream when set; otherwise the in-process bus. */
  natsUrl?: string | undefined;
  producer: string;
  namespace?: string;
  logger?: BusLogger;
}

export async function openBus(options: OpenBusOptions): Promise<Bus> {
  const logger = options.logger ? { logger: options.logger } : {};
  if (options.natsUrl) {
    return JetStreamBus.connect({
      url: options.natsUrl,
      producer: options.producer,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...logger,
    });
  }
  return new MemoryBus({ producer: options.producer, ...logger });
}
