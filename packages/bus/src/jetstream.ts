import {
  AckPolicy,
  connect,
  DeliverPolicy,
  JSONCodec,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { EventType } from '@neon/contracts';
import { makeEnvelope, parseEnvelope } from './envelope.js';
import {
  backoffMs,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_ATTEMPTS,
  type Bus,
  type BusLogger,
  type SubscribeOptions,
  type Subscription,
} from './types.js';

export interface JetStreamBusOptions {
  url: string;
  producer: string;
  logger?: BusLogger;
  /**
   * Names the stream (upper case) and prefixes subjects (lower case), so
   * deployments or test runs sharing a server stay apart. Default `NEON`.
   */
  namespace?: string;
  /** How long events are kept for replay and late groups. Default 7 days. */
  maxAgeMs?: number;
}

const codec = JSONCodec();

/** Consumer names may not hold `.`, `*`, `>` or white space. */
function durableName(group: string): string {
  return group.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * The distributed bus: one JetStream stream holds every event; a consumer
 * group is a durable pull consumer (members pulling from it share the load);
 * a broadcast subscription is an ordered consumer starting at "new".
 */
export class JetStreamBus implements Bus {
  readonly kind = 'jetstream';
  private readonly stream: string;
  private readonly prefix: string;
  private readonly active = new Set<ConsumerMessages>();
  /** Durable consumers this bus pulls from, by group (one consumer per event type). */
  private readonly durables = new Map<string, Set<string>>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamBusOptions,
  ) {
    const ns = options.namespace ?? 'NEON';
    this.stream = ns.toUpperCase();
    this.prefix = ns.toLowerCase();
  }

  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const nc = await connect({
      servers: options.url.replace(/^nats:\/\//, ''),
      name: options.producer,
      maxReconnectAttempts: -1,
    });
    const jsm = await nc.jetstreamManager();
    const bus = new JetStreamBus(nc, nc.jetstream(), jsm, options);
    await bus.ensureStream();
    return bus;
  }

  get streamName(): string {
    return this.stream;
  }

  private subject(type: string): string {
    return `${this.prefix}.${type}`;
  }

  private async ensureStream(): Promise<void> {
    try {
      await this.jsm.streams.info(this.stream);
    } catch {
      await this.jsm.streams.add({
        name: this.stream,
        subjects: [`${this.prefix}.>`],
        max_age: nanos(this.options.maxAgeMs ?? 7 * 24 * 3600 * 1000),
        duplicate_window: nanos(120_000),
      });
    }
  }

  async publish<T extends EventType>(
    type: T,
    data: Parameters<Bus['publish']>[1],
    options?: Parameters<Bus['publish']>[2],
  ) {
    const event = makeEnvelope(type, data as never, this.options.producer, options);
    // msgID lets JetStream drop a retried publish of the same event.
    await this.js.publish(this.subject(type), codec.encode(event), { msgID: event.id });
    return event as never;
  }

  async subscribe<T extends EventType>(options: SubscribeOptions<T>): Promise<Subscription> {
    // Servers before 2.10 filter a consumer on one subject only, so a
    // subscription holds one consumer per event type.
    const streams = await Promise.all(options.types.map((type) => this.consumeType(type, options)));
    for (const m of streams) this.active.add(m);
    for (const m of streams) this.loop(m, options);
    return {
      close: async () => {
        for (const m of streams) {
          this.active.delete(m);
          await m.close();
        }
      },
    };
  }

  private async consumeType<T extends EventType>(
    type: T,
    options: SubscribeOptions<T>,
  ): Promise<ConsumerMessages> {
    const filter = this.subject(type);
    if (options.group === undefined) {
      // A broadcast starts now, or at a point in time when asked (replaying the recent past).
      const consumer = await this.js.consumers.get(
        this.stream,
        options.from instanceof Date
          ? {
              filterSubjects: filter,
              deliver_policy: DeliverPolicy.StartTime,
              opt_start_time: options.from.toISOString(),
            }
          : { filterSubjects: filter, deliver_policy: DeliverPolicy.New },
      );
      return consumer.consume();
    }
    const name = `${durableName(options.group)}__${durableName(type)}`;
    await this.ensureConsumer(name, filter, options);
    let names = this.durables.get(options.group);
    if (!names) this.durables.set(options.group, (names = new Set()));
    names.add(name);
    const consumer = await this.js.consumers.get(this.stream, name);
    return consumer.consume({ max_messages: 256 });
  }

  private loop<T extends EventType>(
    messages: ConsumerMessages,
    options: SubscribeOptions<T>,
  ): void {
    const acking = options.group !== undefined;
    void (async () => {
      for await (const m of messages) {
        const event = parseEnvelope(safeDecode(m.data));
        if (!event) {
          this.options.logger?.error({ subject: m.subject }, 'undecodable event discarded');
          if (acking) m.term();
          continue;
        }
        const attempt = m.info.deliveryCount;
        try {
          await options.handler(event as never, { attempt });
          if (acking) m.ack();
        } catch (err) {
          if (!acking) {
            this.options.logger?.error(
              { err, eventId: event.id, type: event.type },
              'broadcast handler failed',
            );
            continue;
          }
          const max = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
          if (attempt >= max) {
            this.options.logger?.error(
              { err, eventId: event.id, type: event.type },
              'event dropped after max attempts',
            );
            m.term();
          } else {
            this.options.logger?.warn(
              { err, eventId: event.id, type: event.type, attempt },
              'event handler failed; redelivering',
            );
            m.nak(backoffMs(attempt));
          }
        }
      }
    })().catch((err: unknown) => this.options.logger?.error({ err }, 'consumer loop stopped'));
  }

  private async ensureConsumer(
    name: string,
    filter: string,
    options: Pick<SubscribeOptions<EventType>, 'from' | 'ackWaitMs' | 'maxAttempts'>,
  ): Promise<void> {
    const from = options.from ?? 'all';
    const config: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_deliver: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      filter_subject: filter,
      ...(from === 'all'
        ? { deliver_policy: DeliverPolicy.All }
        : from === 'new'
          ? { deliver_policy: DeliverPolicy.New }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.toISOString() }),
    };
    try {
      await this.jsm.consumers.info(this.stream, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.jsm.consumers.add(this.stream, config);
      } catch (addErr) {
        // Another member created it first: that is the same group.
        if (!/already in use|exists/i.test(String(addErr))) throw addErr;
      }
    }
  }

  async pending(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await Promise.all(
      [...this.durables].map(async ([group, names]) => {
        let n = 0;
        for (const name of names) {
          const info = await this.jsm.consumers.info(this.stream, name);
          n += info.num_pending + info.num_ack_pending;
        }
        out.set(group, n);
      }),
    );
    return out;
  }

  async ping(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    for (const m of this.active) await m.close();
    this.active.clear();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return codec.decode(data);
  } catch {
    return null;
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}
