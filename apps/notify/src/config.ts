import { env, type ConfigOf } from '@neon/kit';

export const notifySpec = {
  NOTIFY_HOST: env.string('127.0.0.1'),
  NOTIFY_PORT: env.port(8105),
  /** Open notification streams one user may hold (tabs, devices); across replicas with Redis. */
  NOTIFY_STREAMS_PER_USER: env.int(5, 1, 100),
  /** A comment line this often keeps proxies from closing an idle stream. */
  NOTIFY_HEARTBEAT_SECONDS: env.int(15, 1, 300),
  /** Bytes a stream may have waiting for a slow reader before it is cut off. */
  NOTIFY_STREAM_BUFFER_BYTES: env.int(256 * 1024, 1024),
  /** Viewer counts go out at most this often per channel; the latest one wins. */
  NOTIFY_VIEWERS_INTERVAL_SECONDS: env.int(5, 1, 60),
  /** A went-live fan-out to more followers than this is cut into pages of this many, shared by the replicas. */
  NOTIFY_FANOUT_PAGE_SIZE: env.int(5000, 1, 1_000_000),
};

export type NotifyConfig = ConfigOf<typeof notifySpec>;
