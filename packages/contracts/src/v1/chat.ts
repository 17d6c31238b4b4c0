import Type, { type Static } from 'typebox';

export const CHAT_MAX_BODY = 500;
export const CHAT_HISTORY_ON_JOIN = 50;
export const CHAT_RESUME_LIMIT = 500;
/** Frames larger than this close the socket with 1009 (message too big). */
export const CHAT_MAX_FRAME_BYTES = 16 * 1024;
export const CHAT_MAX_TIMEOUT_SECONDS = 1_209_600;
/** A moderator's reason for a ban or timeout. */
export const CHAT_MAX_REASON = 200;
/** The longest `client_id` a `shout` may carry. */
export const CHAT_CLIENT_ID_MAX = 64;
/** The longest minimum follow age followers-only mode takes: 90 days, in minutes. */
export const CHAT_MAX_FOLLOW_MINUTES = 129_600;

export const ChatBadge = Type.Union([
  Type.Literal('owner'),
  Type.Literal('moderator'),
  Type.Literal('vip'),
  Type.Literal('subscriber'),
  Type.Literal('admin'),
]);
export type ChatBadge = Static<typeof ChatBadge>;

export const ChatSender = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  badges: Type.Array(ChatBadge),
  /** With the `subscriber` badge: the months the sender has paid for this channel. */
  subscriberMonths: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type ChatSender = Static<typeof ChatSender>;

/** A message as the room sees it (`shout` broadcast, history). Body is plain text. */
export const ChatMessage = Type.Object({
  id: Type.String(),
  body: Type.String(),
  sender: ChatSender,
  sentAt: Type.String(),
});
export type ChatMessage = Static<typeof ChatMessage>;

/** Client → server payloads. */
export const ShoutPayload = Type.Object({
  body: Type.String(),
  /**
   * The sender's own id for this message (1–64 visible ASCII characters, a
   * UUID will do): a retry with the same id in the same room stores nothing
   * new and is answered with the first one's message id.
   */
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: CHAT_CLIENT_ID_MAX })),
});
export type ShoutPayload = Static<typeof ShoutPayload>;
export const ShoutReply = Type.Object({ id: Type.String() });
export type ShoutReply = Static<typeof ShoutReply>;
export const JoinPayload = Type.Object({ last_seen_id: Type.Optional(Type.String()) });
export type JoinPayload = Static<typeof JoinPayload>;

export const RoomSettings = Type.Object({
  slowSeconds: Type.Integer(),
  followersOnly: Type.Boolean(),
  /** In followers-only mode, how long (minutes) a follower must have followed before writing. */
  followersOnlyMinutes: Type.Integer(),
  subscribersOnly: Type.Boolean(),
});
export type RoomSettings = Static<typeof RoomSettings>;

export const JoinReply = Type.Object({
  /** The last 50 messages, oldest first; after `last_seen_id`, every later one (up to 500). */
  history: Type.Array(ChatMessage),
  /**
   * With `last_seen_id`: the ids of deleted messages among the newest 500 up
   * to and including it (oldest first), so a client that was away removes the
   * ones it still shows. May repeat a deletion the client already received.
   * Empty on a first join.
   */
  deleted: Type.Array(Type.String()),
  /**
   * With `last_seen_id`: more messages came after it than a resume returns,
   * so `history` is the newest 500 and the ones between were not recovered.
   */
  gap: Type.Boolean(),
  /** Whether this socket may send `moderate` events in the room. */
  moderator: Type.Boolean(),
  settings: RoomSettings,
});
export type JoinReply = Static<typeof JoinReply>;

/** Client → server `moderate` payloads (owner, channel moderators, admins). */
export const ModerationAction = Type.Union([
  Type.Object({ action: Type.Literal('delete'), messageId: Type.String() }),
  Type.Object({
    action: Type.Literal('timeout'),
    userId: Type.String(),
    seconds: Type.Integer({ minimum: 1, maximum: CHAT_MAX_TIMEOUT_SECONDS }),
    reason: Type.Optional(Type.String({ maxLength: CHAT_MAX_REASON })),
  }),
  Type.Object({
    action: Type.Literal('ban'),
    userId: Type.String(),
    reason: Type.Optional(Type.String({ maxLength: CHAT_MAX_REASON })),
  }),
  Type.Object({ action: Type.Literal('unban'), userId: Type.String() }),
  Type.Object({
    action: Type.Literal('slow'),
    seconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
  }),
  /** `minutes`: the minimum follow age while enabled (default 0: following is enough). */
  Type.Object({
    action: Type.Literal('followers_only'),
    enabled: Type.Boolean(),
    minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: CHAT_MAX_FOLLOW_MINUTES })),
  }),
  Type.Object({ action: Type.Literal('subscribers_only'), enabled: Type.Boolean() }),
]);
export type ModerationAction = Static<typeof ModerationAction>;
export type ModerationActionName = ModerationAction['action'];

/**
 * The error reply to a `shout` refused by followers-only mode (`code`
 * `CHAT_FOLLOWERS_ONLY`): whether the sender follows the channel, the room's
 * minimum follow age, and how long (seconds) until they may write, counting
 * from a follow made now when they do not follow yet.
 */
export const FollowersOnlyRefusal = Type.Object({
  code: Type.Literal('CHAT_FOLLOWERS_ONLY'),
  detail: Type.String(),
  following: Type.Boolean(),
  minutes: Type.Integer(),
  waitSeconds: Type.Integer(),
});
export type FollowersOnlyRefusal = Static<typeof FollowersOnlyRefusal>;

/** Server → room `delete`: a message was removed. */
export const MessageDeleted = Type.Object({ id: Type.String() });
export type MessageDeleted = Static<typeof MessageDeleted>;

/** Server → room `user_restricted`: a user was timed out (`until` set), banned (`until` null) or unbanned (`lifted`). */
export const UserRestricted = Type.Object({
  userId: Type.String(),
  until: Type.Union([Type.String(), Type.Null()]),
  lifted: Type.Boolean(),
});
export type UserRestricted = Static<typeof UserRestricted>;

/** One entry of a channel's moderation log. */
export const ModerationLogEntry = Type.Object({
  id: Type.String(),
  action: Type.String(),
  actor: Type.Object({ id: Type.String(), username: Type.String() }),
  targetUserId: Type.Union([Type.String(), Type.Null()]),
  targetMessageId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
});
export type ModerationLogEntry = Static<typeof ModerationLogEntry>;

export const ModerationLogQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  before: Type.Optional(Type.String({ format: 'uuid' })),
});
export const ModerationLogPage = Type.Object({ items: Type.Array(ModerationLogEntry) });
export type ModerationLogPage = Static<typeof ModerationLogPage>;
