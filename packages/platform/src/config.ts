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
  /** Shared by the gateway and the services it calls; proves a request came through it. */
  INTERNAL_SECRET: env.optionalString(),
};
