import Type, { type Static } from 'typebox';

/** HTTP bodies and stream events of the notify service (v1). */

/** A page of notifications holds at most this many. */
export const NOTIFICATIONS_PAGE_LIMIT = 50;
/** `POST /api/v1/notifications/read` marks at most this many ids at once. */
export const NOTIFICATIONS_READ_MAX_IDS = 100;

export const NotificationKind = Type.Union([
  Type.Literal('went_live'),
  Type.Literal('role_granted'),
]);
export type NotificationKind = Static<typeof NotificationKind>;

/** A notification a user keeps; `id` orders them (newer is larger) and is the stream's event id. */
export const Notification = Type.Object({
  id: Type.String(),
  kind: NotificationKind,
  /** The channel it is about (its owner's username). */
  channel: Type.String(),
  /** went_live: the broadcast's title; role_granted: null. */
  title: Type.Union([Type.String(), Type.Null()]),
  /** role_granted: `moderator` or `vip`; went_live: null. */
  role: Type.Union([Type.Literal('moderator'), Type.Literal('vip'), Type.Null()]),
  /** Where the web app opens it. */
  link: Type.String(),
  createdAt: Type.String(),
  read: Type.Boolean(),
});
export type Notification = Static<typeof Notification>;

export const NotificationList = Type.Object({
  items: Type.Array(Notification),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  unreadCount: Type.Integer({ minimum: 0 }),
});
export type NotificationList = Static<typeof NotificationList>;

export const NotificationsRead = Type.Union([
  Type.Object(
    { ids: Type.Array(Type.String({ maxLength: 20 }), { maxItems: NOTIFICATIONS_READ_MAX_IDS }) },
    { additionalProperties: false },
  ),
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
]);
export type NotificationsRead = Static<typeof NotificationsRead>;

export const UnreadCount = Type.Object({ unreadCount: Type.Integer({ minimum: 0 }) });
export type UnreadCount = Static<typeof UnreadCount>;

/** The caller's notification settings: the global switch and the channels muted for went-live. */
export const NotificationSettings = Type.Object({
  wentLive: Type.Boolean(),
  mutedChannels: Type.Array(Type.String()),
});
export type NotificationSettings = Static<typeof NotificationSettings>;

export const NotificationSettingsPatch = Type.Object(
  { wentLive: Type.Boolean() },
  { additionalProperties: false },
);
export type NotificationSettingsPatch = Static<typeof NotificationSettingsPatch>;

/**
 * Public live state pushed on `GET /api/v1/notifications/stream?channels=`:
 * `event: live` (status changes) and `event: viewers` (coalesced counts).
 */
export const LiveStatusEvent = Type.Object({
  channel: Type.String(),
  live: Type.Boolean(),
  broadcastId: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
});
export type LiveStatusEvent = Static<typeof LiveStatusEvent>;

export const ViewersEvent = Type.Object({
  channel: Type.String(),
  viewers: Type.Integer({ minimum: 0 }),
});
export type ViewersEvent = Static<typeof ViewersEvent>;
