import Type, { type Static } from 'typebox';

export const CHAT_MAX_BODY = 500;
export const CHAT_HISTORY_ON_JOIN = 50;
export const CHAT_RESUME_LIMIT = 500;

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
export const ShoutPayload = Type.Object({ body: Type.String() });
export const JoinPayload = Type.Object({ last_seen_id: Type.Optional(Type.String()) });
export const JoinReply = Type.Object({
  history: Type.Array(ChatMessage),
  moderator: Type.Boolean(),
});
export type JoinReply = Static<typeof JoinReply>;

export const ModerationAction = Type.Union([
  Type.Object({ action: Type.Literal('delete'), messageId: Type.String() }),
  Type.Object({
    action: Type.Literal('timeout'),
    userId: Type.String(),
    seconds: Type.Integer({ minimum: 1, maximum: 1_209_600 }),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  Type.Object({
    action: Type.Literal('ban'),
    userId: Type.String(),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  Type.Object({ action: Type.Literal('unban'), userId: Type.String() }),
  Type.Object({
    action: Type.Literal('slow'),
    seconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
  }),
  Type.Object({ action: Type.Literal('followers_only'), enabled: Type.Boolean() }),
  Type.Object({ action: Type.Literal('subscribers_only'), enabled: Type.Boolean() }),
]);
export type ModerationAction = Static<typeof ModerationAction>;

/** Server → room: a message was removed. */
export const MessageDeleted = Type.Object({ id: Type.String() });
export type MessageDeleted = Static<typeof MessageDeleted>;

export const RoomSettings = Type.Object({
  slowSeconds: Type.Integer(),
  followersOnly: Type.Boolean(),
  subscribersOnly: Type.Boolean(),
});
export type RoomSettings = Static<typeof RoomSettings>;
