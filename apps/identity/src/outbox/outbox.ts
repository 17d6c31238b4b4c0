import { enqueueEvent, OutboxRelay as SchemaOutboxRelay, type Bus } from '@neon/bus';
import type { EventData, EventType } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import type { Logger } from '@neon/kit';

export type IdentityEventType = Extract<EventType, `identity.${string}`>;

/**
 * Records an event in the same transaction as the change it describes, so a
 * crash between commit and publish (or a change made by the command line,
 * which has no bus) still reaches the bus later.
 */
export function enqueue<T extends IdentityEventType>(
  q: Queryable,
  type: T,
  data: EventData<T>,
): Promise<void> {
  return enqueueEvent(q, 'identity', type, data);
}

/** Publishes `identity.outbox` in order; see the bus package's relay. */
export class OutboxRelay extends SchemaOutboxRelay {
  constructor(db: Db, bus: Bus, logger: Logger, intervalMs = 1000) {
    super(db, bus, logger, { schema: 'identity', intervalMs });
  }
}
