import { env, type ConfigOf } from '@neon/kit';

export const channelsSpec = {
  CHANNELS_HOST: env.string('127.0.0.1'),
  CHANNELS_PORT: env.port(8102),
};

export type ChannelsConfig = ConfigOf<typeof channelsSpec>;
