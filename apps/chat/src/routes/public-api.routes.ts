import { publicApi, type ModerationAction, type PublicOperation } from '@neon/contracts';
import { requireApp, requireAppUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { FastifyRequest } from 'fastify';
import type { ChatService } from '../rooms/chat.service.js';

export interface PublicApiDeps {
  chat: ChatService;
}

/**
 * Checks the OAuth token (kind and scope) before anything else, body
 * validation included: a caller without the right token learns nothing more.
 */
const authorised = (o: PublicOperation) => async (request: FastifyRequest) => {
  requireApp(request, o);
};

/**
 * Chat's part of `/public/v1`, registered from the operations' declarations.
 * Each is the socket's `shout` or `moderate` for the token's user, with the
 * same rules and effects; a refusal is problem+json with the socket's code.
 * The user comes with the role `user` only, so a platform admin moderates
 * here only the rooms they own or moderate.
 */
export const publicApiRoutes: FastifyPluginAsyncTypebox<PublicApiDeps> = async (app, { chat }) => {
  const send = publicApi.sendChatMessage;
  app.route({
    method: send.method,
    url: send.path,
    onRequest: authorised(send),
    schema: { body: send.body, response: { [send.status]: send.response } },
    handler: async (request, reply) => {
      const user = requireAppUser(request, send);
      const room = await chat.roomOf(request.body.broadcasterId);
      const id = await chat.shout(room, user, { body: request.body.message });
      return reply.code(send.status).send({ data: [{ id }] });
    },
  });

  const remove = publicApi.deleteChatMessage;
  app.route({
    method: remove.method,
    url: remove.path,
    onRequest: authorised(remove),
    schema: { querystring: remove.querystring },
    handler: async (request, reply) => {
      const user = requireAppUser(request, remove);
      const room = await chat.roomOf(request.query.broadcasterId);
      await chat.moderate(room, user, { action: 'delete', messageId: request.query.messageId });
      return reply.code(remove.status).send();
    },
  });

  const ban = publicApi.banUser;
  app.route({
    method: ban.method,
    url: ban.path,
    onRequest: authorised(ban),
    schema: { body: ban.body },
    handler: async (request, reply) => {
      const user = requireAppUser(request, ban);
      const { broadcasterId, userId, duration, reason } = request.body;
      const room = await chat.roomOf(broadcasterId);
      const why = reason === undefined ? {} : { reason };
      const action: ModerationAction =
        duration === undefined
          ? { action: 'ban', userId, ...why }
          : { action: 'timeout', userId, seconds: duration, ...why };
      await chat.moderate(room, user, action);
      return reply.code(ban.status).send();
    },
  });

  const unban = publicApi.unbanUser;
  app.route({
    method: unban.method,
    url: unban.path,
    onRequest: authorised(unban),
    schema: { querystring: unban.querystring },
    handler: async (request, reply) => {
      const user = requireAppUser(request, unban);
      const room = await chat.roomOf(request.query.broadcasterId);
      await chat.moderate(room, user, { action: 'unban', userId: request.query.userId });
      return reply.code(unban.status).send();
    },
  });
};
