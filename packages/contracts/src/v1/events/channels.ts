import Type from 'typebox';

const ChannelRoleName = Type.Union([Type.Literal('moderator'), Type.Literal('vip')]);

export const channelsEvents = {
  /** `channel` is the channel's name (its owner's username); `userId`/`username` the holder. */
  'channels.role.granted.v1': Type.Object({
    channel: Type.String(),
    userId: Type.String(),
    username: Type.String(),
    role: ChannelRoleName,
  }),
  'channels.role.revoked.v1': Type.Object({
    channel: Type.String(),
    userId: Type.String(),
    username: Type.String(),
    role: ChannelRoleName,
  }),
  /** `userId`/`username` follow `channel` (owned by `channelId`) since `followedAt`. */
  'channels.follow.created.v1': Type.Object({
    channel: Type.String(),
    channelId: Type.String(),
    userId: Type.String(),
    username: Type.String(),
    followedAt: Type.String(),
  }),
  'channels.follow.deleted.v1': Type.Object({
    channel: Type.String(),
    channelId: Type.String(),
    userId: Type.String(),
    username: Type.String(),
  }),
};
