import Type from 'typebox';

export const liveEvents = {
  'live.stream.started.v1': Type.Object({
    broadcastId: Type.String(),
    channel: Type.String(),
    userId: Type.String(),
    title: Type.String(),
    startedAt: Type.String(),
    renditions: Type.Array(Type.String()),
  }),
  'live.stream.ended.v1': Type.Object({
    broadcastId: Type.String(),
    channel: Type.String(),
    userId: Type.String(),
    startedAt: Type.String(),
    endedAt: Type.String(),
    durationSeconds: Type.Number(),
  }),
  /** The owner changed the title of the broadcast that is live. */
  'live.stream.updated.v1': Type.Object({
    broadcastId: Type.String(),
    channel: Type.String(),
    userId: Type.String(),
    title: Type.String(),
  }),
  'live.viewers.updated.v1': Type.Object({
    channel: Type.String(),
    broadcastId: Type.String(),
    viewers: Type.Integer({ minimum: 0 }),
  }),
};
