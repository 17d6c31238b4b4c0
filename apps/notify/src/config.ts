import { env, type ConfigOf } from '@neon/kit';

export const notifySpec = {
  NOTIFY_HOST: env.string('127.0.0.1'),
  NOTIFY_PORT: env.port(8105),
  /** Open notification streams one user may hold on one replica (tabs, devices). */
  NOTIFY_STREAMS_PER_USER: env.int(5, 1, 100),
  /** A comment line this often keeps proxies from closing an idle stream. */
  NOTIFY_HEARTBEAT_SECONDS: env.int(15, 1, 300),
  /** Bytes a stream may have waiting for a slow reader before it is cut off. */
  NOTIFY_STREAM_BUFFER_BYTES: env.int(256 * 1024, 1024),
  /** Viewer counts go out at most this often per channel; the latest one wins. */
  NOTIFY_VIEWERS_INTERVAL_SECONDS: env.int(5, 1, 60),
};

export type NotifyConfig = ConfigOf<typeof notifySpec>;
