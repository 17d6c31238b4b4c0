/** Error codes of the channels domain (prefix CHANNELS_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const channelsErrors = {
  CHANNELS_CHANNEL_NOT_FOUND: 404,
  CHANNELS_CATEGORY_NOT_FOUND: 404,
  CHANNELS_USER_NOT_FOUND: 404,
  /** A user tried to follow their own channel. */
  CHANNELS_FOLLOW_SELF: 400,
  /** The owner tried to make themselves a moderator or VIP of their own channel. */
  CHANNELS_ROLE_SELF: 400,
  /** A category with that slug or name exists already (retired ones included). */
  CHANNELS_CATEGORY_EXISTS: 409,
  /** The `cursor` is not one this list handed out. */
  CHANNELS_CURSOR_INVALID: 400,
} as const;
