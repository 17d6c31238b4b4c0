import Type from 'typebox';

export const channelsEvents = {
  'channels.role.granted.v1': Type.Object({
    channel: Type.String(),
    userId: Type.String(),
    username: Type.String(),
    role: Type.Union([Type.Literal('moderator'), Type.Literal('vip')]),
  }),
  'channels.role.revoked.v1': Type.Object({
    channel: Type.String(),
    userId: Type.String(),
    username: Type.String(),
    role: Type.Union([Type.Literal('moderator'), Type.Literal('vip')]),
  }),
};
