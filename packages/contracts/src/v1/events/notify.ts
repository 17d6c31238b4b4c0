import Type from 'typebox';

export const notifyEvents = {
  /**
   * Notifications were stored for some users under `sourceKey` (one per user):
   * every notify replica pushes them to the streams it holds.
   */
  'notify.notifications.stored.v1': Type.Object({
    sourceKey: Type.String(),
    /** When given, only users with ids in [fromUserId, toUserId) got one (a page of a fan-out). */
    fromUserId: Type.Optional(Type.String()),
    toUserId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  /**
   * One page of a went-live fan-out: the followers of `channelId` with ids in
   * [fromUserId, toUserId) (to the end when null) get the notification
   * `sourceKey`. Pages go to a consumer group, so notify replicas share them.
   */
  'notify.fanout.page.v1': Type.Object({
    sourceKey: Type.String(),
    channelId: Type.String(),
    channel: Type.String(),
    title: Type.String(),
    fromUserId: Type.String(),
    toUserId: Type.Union([Type.String(), Type.Null()]),
  }),
  /**
   * A went-live fan-out was cut into pages (`sourceKey` as in its pages). Every
   * notify replica at once writes the notifications of the followers it holds
   * streams for and pushes them, so those who are watching hear it before the
   * pages reach them.
   */
  'notify.fanout.online.v1': Type.Object({
    sourceKey: Type.String(),
    channelId: Type.String(),
    channel: Type.String(),
    title: Type.String(),
  }),
};
