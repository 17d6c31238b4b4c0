import { env, type ConfigOf } from '@neon/kit';

export const liveSpec = {
  LIVE_HOST: env.string('127.0.0.1'),
  LIVE_PORT: env.port(8103),
};

export type LiveConfig = ConfigOf<typeof liveSpec>;
