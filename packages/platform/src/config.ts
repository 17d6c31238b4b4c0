import { env } from '@neon/kit';

/** What every service reads, in either shape. */
export const platformSpec = {
  DATA_DIR: env.string('./data'),
  DATABASE_URL: env.url(),
  NATS_URL: env.url(),
  REDIS_URL: env.url(),
  PUBLIC_URL: env.url('http://localhost:8080'),
  LOG_LEVEL: env.logLevel(),
  LOG_PRETTY: env.bool(false),
  /**
   * Where Prometheus metrics are served (GET /metrics), apart from every
   * public and API port: loopback by default; port 0 picks a free one, logged
   * at start. One endpoint per process (the embedded shape: one for all).
   */
  METRICS_HOST: env.string('127.0.0.1'),
  METRICS_PORT: env.port(0),
  /** Shared by the gateway and the services it calls; proves a request came through it. */
  INTERNAL_SECRET: env.optionalString(),
};
