import { connect, type NatsConnection, type Subscription } from 'nats';

/** A broadcast frame with the id of the message it carries (null for other events). */
export interface FanoutItem {
  id: string | null;
  frame: string;
}

/** What replicas tell each other about one room. */
export interface FanoutMessage {
  room: string;
  /** The room's rules changed in the database: reload them before delivering `items`. */
  reload: boolean;
  items: FanoutItem[];
  /** A follow (`since`, ms) or unfollow (null) of the room's channel, now in the database. */
  follow?: { userId: string; since: number | null };
}

export interface Fanout {
  /** Resolves once the message has reached the NATS server (or after a bounded wait). */
  publish(message: FanoutMessage): Promise<void>;
  close(): Promise<void>;
}

/** Past this, an acknowledgement stops waiting for NATS: the message is durable already. */
const FLUSH_WAIT_MS = 1000;

/** The only replica: nothing to tell anyone. */
export const soloFanout: Fanout = {
  async publish() {},
  async close() {},
};

/**
 * Cross-replica fan-out over core NATS (not JetStream): every replica
 * subscribes to one subject and hears every other replica's committed
 * batches. Core NATS adds no storage and no acknowledgement round trip on the
 * hot path; the database is the durable copy, and a client that misses a
 * fan-out (a replica or NATS restarting) recovers it with `last_seen_id`.
 * `noEcho` keeps a replica from hearing itself: it has delivered locally.
 */
export async function natsFanout(
  url: string,
  subject: string,
  onMessage: (message: FanoutMessage) => void,
  onError: (err: unknown) => void,
): Promise<Fanout> {
  const nc: NatsConnection = await connect({
    servers: url.replace(/^nats:\/\//, ''),
    name: 'chat-fanout',
    noEcho: true,
    maxReconnectAttempts: -1,
  });
  const sub: Subscription = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) {
      try {
        onMessage(JSON.parse(new TextDecoder().decode(m.data)) as FanoutMessage);
      } catch (err) {
        onError(err);
      }
    }
  })();
  const encoder = new TextEncoder();
  return {
    async publish(message) {
      try {
        nc.publish(subject, encoder.encode(JSON.stringify(message)));
        // A flush is a round trip: the server has the message before the
        // sender is told it was sent, so a replica dying right after its
        // acknowledgement cannot keep the message from its peers' clients.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          nc.flush(),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_WAIT_MS))),
        ]).finally(() => clearTimeout(timer));
      } catch (err) {
        onError(err);
      }
    },
    async close() {
      await nc.drain().catch(() => nc.close());
    },
  };
}
