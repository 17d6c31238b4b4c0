import Type from 'typebox';

export const notifyEvents = {
  /**
   * Notifications were stored for some users under `sourceKey` (one per user):
   * every notify replica pushes them to the streams it holds.
   */
  'notify.notifications.stored.v1': Type.Object({ sourceKey: Type.String() }),
};
