import Type from 'typebox';

export const chatEvents = {
  'chat.message.created.v1': Type.Object({
    id: Type.String(),
    channel: Type.String(),
    senderId: Type.String(),
    body: Type.String(),
    sentAt: Type.String(),
  }),
};
