import { env, type ConfigOf } from '@neon/kit';

export const chatSpec = {
  CHAT_HOST: env.string('127.0.0.1'),
  CHAT_PORT: env.port(8104),
};

export type ChatConfig = ConfigOf<typeof chatSpec>;
