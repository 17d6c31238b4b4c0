import Type from 'typebox';
import { ModerationLogPage, ModerationLogQuery, Problem } from '@neon/contracts';
import { AppError, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { RoomRegistry } from '../rooms/room.js';
import type { ChatRepository } from '../store/chat.repository.js';

export interface ModerationLogDeps {
  rooms: RoomRegistry;
  repo: ChatRepository;
}

/** A channel's moderation log, newest first, for the people who moderate it. */
export const moderationLogRoutes: FastifyPluginAsyncTypebox<ModerationLogDeps> = async (
  app,
  deps,
) => {
  app.get(
    '/api/v1/chat/:channel/moderation-log',
    {
      schema: {
        params: Type.Object({ channel: Type.String({ maxLength: 64 }) }),
        querystring: ModerationLogQuery,
        response: { 200: ModerationLogPage, '4xx': Problem },
      },
    },
    async (request) => {
      const client = requireUser(request);
      const { channel } = request.params;
      const room = /^[a-z0-9_]{3,25}$/.test(channel) ? await deps.rooms.get(channel) : null;
      if (!room) throw new AppError('CHAT_ROOM_NOT_FOUND', `No chat room for ${channel}.`);
      if (!room.isModerator(client)) {
        throw new AppError('CHAT_NOT_MODERATOR', 'Only the channel’s moderators may read its log.');
      }
      const items = await deps.repo.moderationLog(
        channel,
        request.query.limit ?? 50,
        request.query.before,
      );
      return { items };
    },
  );
};
