/** Error codes of the notify domain (prefix NOTIFY_). Permanent once shipped. */
export const notifyErrors = {
  /** The `cursor` is not one this list handed out. */
  NOTIFY_CURSOR_INVALID: 400,
  /** The user already holds as many open notification streams as allowed. */
  NOTIFY_TOO_MANY_STREAMS: 429,
  /** Muting a channel that does not exist. */
  NOTIFY_CHANNEL_NOT_FOUND: 404,
} as const;
