import { env, type ConfigOf } from '@neon/kit';

export const channelsSpec = {
  CHANNELS_HOST: env.string('127.0.0.1'),
  CHANNELS_PORT: env.port(8102),
  /** Follows and unfollows a user may make per window (follow-bot protection). */
  CHANNELS_FOLLOW_LIMIT: env.int(30, 1),
  CHANNELS_FOLLOW_WINDOW_SECONDS: env.int(60, 1),
};

export type ChannelsConfig = ConfigOf<typeof channelsSpec>;
