import { env, type ConfigOf } from '@neon/kit';

export const notifySpec = {
  NOTIFY_HOST: env.string('127.0.0.1'),
  NOTIFY_PORT: env.port(8105),
};

export type NotifyConfig = ConfigOf<typeof notifySpec>;
