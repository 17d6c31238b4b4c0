import { env, type ConfigOf } from '@neon/kit';
import { EVENTSUB_DEFAULT_MAX_SUBSCRIPTIONS } from '@neon/contracts';

export const channelsSpec = {
  CHANNELS_HOST: env.string('127.0.0.1'),
  CHANNELS_PORT: env.port(8102),
  /** Follows and unfollows a user may make per window (follow-bot protection). */
  CHANNELS_FOLLOW_LIMIT: env.int(30, 1),
  CHANNELS_FOLLOW_WINDOW_SECONDS: env.int(60, 1),
  /**
   * Development only: lets a webhook callback be `http` to a loopback address
   * (every address its host resolves to must then be loopback). Off, callbacks
   * are `https` to public addresses only.
   */
  CHANNELS_EVENTSUB_ALLOW_HTTP_LOOPBACK: env.bool(false),
  /** Subscriptions one application may hold, failed ones included until it deletes them. */
  CHANNELS_EVENTSUB_MAX_SUBSCRIPTIONS: env.int(EVENTSUB_DEFAULT_MAX_SUBSCRIPTIONS, 1),
  /** The whole of one attempt (resolving, connecting, sending, reading the answer). */
  CHANNELS_EVENTSUB_TIMEOUT_MS: env.int(10_000, 100, 60_000),
  /** Wait before the first retry of a failed message; it doubles with each failure (±20%). */
  CHANNELS_EVENTSUB_RETRY_MS: env.int(10_000, 1),
  /** The longest wait between two attempts. */
  CHANNELS_EVENTSUB_RETRY_MAX_MS: env.int(3_600_000, 1),
  /**
   * A message is dropped this long after it was written; a subscription whose
   * callback has answered nothing for this long is revoked.
   */
  CHANNELS_EVENTSUB_GIVE_UP_MS: env.int(86_400_000, 1),
  /** How often each replica looks for messages due (new ones also go out at once). */
  CHANNELS_EVENTSUB_WORKER_INTERVAL_MS: env.int(1000, 10),
};

export type ChannelsConfig = ConfigOf<typeof channelsSpec>;
