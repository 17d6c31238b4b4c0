import type { AnyEvent, EventType } from '@neon/contracts';
import { makeEnvelope } from './envelope.js';
import {
  backoffMs,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_ATTEMPTS,
  type Bus,
  type BusLogger,
  type Handler,
  type SubscribeOptions,
  type Subscription,
} from './types.js';

interface Member {
  handler: Handler<EventType>;
  closed: boolean;
}

interface Pending {
  event: AnyEvent;
  attempt: number;
}

interface Group {
  name: string;
  types: Set<string>;
  members: Member[];
  next: number;
  ready: Pending[];
  inflight: number;
  /** Failed deliveries waiting out their back-off: still the group's lag. */
  retrying: number;
  ackWaitMs: number;
  maxAttempts: number;
  /** Broadcast groups vanish with their only member. */
  ephemeral: boolean;
}

export interface MemoryBusOptions {
  producer: string;
  logger?: BusLogger;
  /** Events kept for groups created later and for replay. */
  retain?: number;
}

const MAX_INFLIGHT = 1000;

/**
 * The embedded bus: the same contract as JetStream inside one process.
 * Groups are durable for the life of the process; the retained log (bounded)
 * serves new groups and replays.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory';
  private readonly log: AnyEvent[] = [];
  private readonly groups = new Map<string, Group>();
  private readonly retain: number;
  private closed = false;
  private anon = 0;

  constructor(private readonly options: MemoryBusOptions) {
    this.retain = options.retain ?? 50_000;
  }

  async publish<T extends EventType>(
    type: T,
    data: Parameters<Bus['publish']>[1],
    options?: Parameters<Bus['publish']>[2],
  ) {
    if (this.closed) throw new Error('bus is closed');
    const event = makeEnvelope(type, data as never, this.options.producer, options) as AnyEvent;
    this.log.push(event);
    // Trimmed a tenth at a time: moving the whole log down on every publish once full costs more than the publish.
    if (this.log.length > this.retain + Math.ceil(this.retain / 10))
      this.log.splice(0, this.log.length - this.retain);
    for (const group of this.groups.values()) {
      if (group.types.has(event.type)) {
        group.ready.push({ event, attempt: 1 });
        this.pump(group);
      }
    }
    return event as never;
  }

  async subscribe<T extends EventType>(options: SubscribeOptions<T>): Promise<Subscription> {
    if (this.closed) throw new Error('bus is closed');
    const ephemeral = options.group === undefined;
    const name = options.group ?? `_broadcast_${++this.anon}`;
    let group = this.groups.get(name);
    if (!group) {
      // A broadcast starts now, or at a point in time when asked (replaying the recent past).
      const from = ephemeral
        ? options.from instanceof Date
          ? options.from
          : 'new'
        : (options.from ?? 'all');
      const types = new Set<string>(options.types);
      group = {
        name,
        types,
        members: [],
        next: 0,
        ready: this.log
          .filter((e) => types.has(e.type))
          .filter((e) =>
            from === 'all'
              ? true
              : from === 'new'
                ? false
                : Date.parse(e.occurredAt) >= from.getTime(),
          )
          .map((event) => ({ event, attempt: 1 })),
        inflight: 0,
        retrying: 0,
        ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
        maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        ephemeral,
      };
      this.groups.set(name, group);
    } else {
      for (const t of options.types) group.types.add(t);
    }
    const member: Member = { handler: options.handler as Handler<EventType>, closed: false };
    group.members.push(member);
    const g = group;
    setImmediate(() => this.pump(g));
    return {
      close: async () => {
        member.closed = true;
        g.members = g.members.filter((m) => m !== member);
        if (g.ephemeral) this.groups.delete(g.name);
      },
    };
  }

  private pump(group: Group): void {
    while (
      group.ready.length > 0 &&
      group.inflight < MAX_INFLIGHT &&
      group.members.length > 0 &&
      !this.closed
    ) {
      const item = group.ready.shift()!;
      const member = group.members[group.next++ % group.members.length]!;
      this.deliver(group, member, item);
    }
  }

  private deliver(group: Group, member: Member, item: Pending): void {
    group.inflight++;
    let settled = false;
    const settle = (ok: boolean, reason?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      group.inflight--;
      if (!ok) this.retry(group, item, reason);
      this.pump(group);
    };
    const timer = setTimeout(() => settle(false, new Error('ack wait expired')), group.ackWaitMs);
    timer.unref();
    setImmediate(() => {
      if (member.closed || this.closed) return settle(false, new Error('member closed'));
      member.handler(item.event, { attempt: item.attempt }).then(
        () => settle(true),
        (err: unknown) => settle(false, err),
      );
    });
  }

  private retry(group: Group, item: Pending, reason: unknown): void {
    if (this.closed || (group.ephemeral && !this.groups.has(group.name))) return;
    if (item.attempt >= group.maxAttempts) {
      this.options.logger?.error(
        { err: reason, eventId: item.event.id, type: item.event.type, group: group.name },
        'event dropped after max attempts',
      );
      return;
    }
    this.options.logger?.warn(
      {
        err: reason,
        eventId: item.event.id,
        type: item.event.type,
        group: group.name,
        attempt: item.attempt,
      },
      'event handler failed; redelivering',
    );
    group.retrying++;
    const timer = setTimeout(() => {
      group.retrying--;
      group.ready.push({ event: item.event, attempt: item.attempt + 1 });
      this.pump(group);
    }, backoffMs(item.attempt));
    timer.unref();
  }

  async pending(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const g of this.groups.values())
      if (!g.ephemeral) out.set(g.name, g.ready.length + g.inflight + g.retrying);
    return out;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
