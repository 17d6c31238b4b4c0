import type { EventData, EventOf, EventType } from '@neon/contracts';

export interface PublishOptions {
  /** Defaults to now; set when publishing something that happened earlier. */
  occurredAt?: Date;
  /** Defaults to a fresh UUIDv7; reuse one to make a retried publish idempotent. */
  id?: string;
}

export interface DeliveryContext {
  /** 1 on first delivery, then 2, 3… on redeliveries. */
  attempt: number;
}

export type Handler<T extends EventType> = (
  /** One of the subscribed types: `event.type` tells which, and narrows `data`. */
  event: { [K in T]: EventOf<K> }[T],
  ctx: DeliveryContext,
) => Promise<void>;

export interface SubscribeOptions<T extends EventType> {
  /**
   * A durable consumer group: the group as a whole receives every event once,
   * its members (subscriptions with the same group, in any process) share the
   * load, and events published while no member runs wait for the next one.
   * Omitted, the subscription is a broadcast: this instance sees every event
   * published from now on, alongside every other instance.
   */
  group?: string;
  types: readonly T[];
  /** Resolving acknowledges the event; throwing (or hanging past `ackWaitMs`) redelivers it. */
  handler: Handler<T>;
  /**
   * Where a group that does not exist yet starts: all retained events, only
   * new ones, or a point in time (replay). A broadcast starts with new events
   * unless given a point in time.
   */
  from?: 'all' | 'new' | Date;
  ackWaitMs?: number;
  /** Deliveries before an event is given up on (and logged). */
  maxAttempts?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: 'memory' | 'jetstream';
  publish<T extends EventType>(
    type: T,
    data: EventData<T>,
    options?: PublishOptions,
  ): Promise<EventOf<T>>;
  subscribe<T extends EventType>(options: SubscribeOptions<T>): Promise<Subscription>;
  ping(): Promise<void>;
  /**
   * Per durable group subscribed through this bus: events published and not
   * yet acknowledged (waiting plus in flight), the group's lag.
   */
  pending(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export interface BusLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 10;

/** Delay before redelivering a failed event: 100 ms doubling, capped at 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 5000);
}
