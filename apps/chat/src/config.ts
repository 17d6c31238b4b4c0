import { env, type ConfigOf } from '@neon/kit';

export const chatSpec = {
  CHAT_HOST: env.string('127.0.0.1'),
  CHAT_PORT: env.port(8104),
  /** Core NATS for cross-replica fan-out; the same server as the bus. Unset: this process is the only replica. */
  NATS_URL: env.url(),
  /** The NATS subject replicas fan messages out on; deployments sharing a server set their own. */
  CHAT_FANOUT_SUBJECT: env.string('neon.chat.fanout'),
  /**
   * The batching window: accepted messages wait at most this long to be
   * written, broadcast and acknowledged together (one write per socket per
   * window, whatever the message rate).
   */
  CHAT_FLUSH_MS: env.int(50, 1, 1000),
  /** ...or until this many are waiting. */
  CHAT_FLUSH_MAX: env.int(1000, 1, 10_000),
  CHAT_RATE_LIMIT: env.int(20, 1, 100_000),
  CHAT_RATE_LIMIT_MODERATOR: env.int(100, 1, 100_000),
  CHAT_RATE_WINDOW_MS: env.int(30_000, 1000, 3_600_000),
  /** A socket whose unsent bytes pass this is a slow consumer and is dropped. */
  CHAT_MAX_BUFFERED_BYTES: env.int(1024 * 1024, 16 * 1024, 256 * 1024 * 1024),
  /** Sockets silent (no heartbeat, no event) this long are closed. */
  CHAT_HEARTBEAT_TIMEOUT_MS: env.int(60_000, 100, 3_600_000),
};

export type ChatConfig = ConfigOf<typeof chatSpec>;
