import { env, type ConfigOf } from '@neon/kit';

export const chatSpec = {
  CHAT_HOST: env.string('127.0.0.1'),
  CHAT_PORT: env.port(8104),
  /** Core NATS for cross-replica fan-out; the same server as the bus. Unset: this process is the only replica. */
  NATS_URL: env.url(),
  /** The NATS subject replicas fan messages out on; deployments sharing a server set their own. */
  CHAT_FANOUT_SUBJECT: env.string('neon.chat.fanout'),
  /**
   * The batching window: a message is written and on every member socket at
   * most about this long after it arrived (the wait, the write and the
   * broadcast together), and acknowledged then. One write per socket per
   * window, whatever the message rate: at a few messages a second in a big
   * room, a socket write costs more than everything else, so the window sets
   * the CPU per delivery (150 ms: ~3 messages per write at 20 msg/s).
   */
  CHAT_FLUSH_MS: env.int(150, 1, 1000),
  /** ...or until this many are waiting. */
  CHAT_FLUSH_MAX: env.int(1000, 1, 10_000),
  CHAT_RATE_LIMIT: env.int(20, 1, 100_000),
  CHAT_RATE_LIMIT_MODERATOR: env.int(100, 1, 100_000),
  CHAT_RATE_WINDOW_MS: env.int(30_000, 1000, 3_600_000),
  /** A socket whose unsent bytes pass this is a slow consumer and is dropped. */
  CHAT_MAX_BUFFERED_BYTES: env.int(1024 * 1024, 16 * 1024, 256 * 1024 * 1024),
  /** Rooms one socket may be in at once; a join beyond gets CHAT_TOO_MANY_JOINS. */
  CHAT_MAX_JOINS_PER_SOCKET: env.int(50, 1, 10_000),
  /** Sockets one user may hold at once, across replicas with REDIS_URL; one beyond is closed with 4029. */
  CHAT_MAX_SOCKETS_PER_USER: env.int(10, 1, 10_000),
  /** Sockets silent (no heartbeat, no event) this long are closed. */
  CHAT_HEARTBEAT_TIMEOUT_MS: env.int(60_000, 100, 3_600_000),
};

export type ChatConfig = ConfigOf<typeof chatSpec>;
