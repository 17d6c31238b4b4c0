/** Error codes of chat (HTTP and socket replies alike). Permanent once shipped. */
export const chatErrors = {
  CHAT_ROOM_NOT_FOUND: 404,
  CHAT_AUTH_REQUIRED: 401,
  CHAT_BODY_EMPTY: 400,
  CHAT_BODY_TOO_LONG: 400,
  CHAT_INVALID_MESSAGE: 400,
  CHAT_UNKNOWN_EVENT: 400,
  CHAT_RATE_LIMITED: 429,
  CHAT_SLOW_MODE: 429,
  CHAT_TIMED_OUT: 403,
  CHAT_BANNED: 403,
  CHAT_FOLLOWERS_ONLY: 403,
  CHAT_SUBSCRIBERS_ONLY: 403,
  CHAT_NOT_MODERATOR: 403,
  CHAT_MESSAGE_NOT_FOUND: 404,
  CHAT_NOT_JOINED: 400,
  /** The socket has joined as many rooms as it may (`CHAT_MAX_JOINS_PER_SOCKET`); leave one first. */
  CHAT_TOO_MANY_JOINS: 429,
  /** A moderator tried to act on the channel owner, or a moderator on another moderator. */
  CHAT_TARGET_PROTECTED: 403,
  /** The message could not be stored; nothing was broadcast, the client may retry. */
  CHAT_UNAVAILABLE: 503,
} as const;
