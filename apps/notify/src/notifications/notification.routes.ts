import Type from 'typebox';
import {
  UsernameParam,
  NOTIFICATIONS_PAGE_LIMIT,
  NotificationList,
  NotificationSettings,
  NotificationSettingsPatch,
  NotificationsRead,
  UnreadCount,
} from '@neon/contracts';
import { AppError, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import { decodeCursor, NOTIFICATION_ID } from './cursor.js';
import type { NotificationRepository } from './notification.repository.js';

export interface NotificationRoutesOptions {
  repo: NotificationRepository;
}

const ChannelParam = Type.Object({
  channel: UsernameParam,
});

export const notificationRoutes: FastifyPluginAsyncTypebox<NotificationRoutesOptions> = async (
  app,
  o,
) => {
  const { repo } = o;

  app.get(
    '/api/v1/notifications',
    {
      schema: {
        querystring: Type.Object({
          cursor: Type.Optional(Type.String({ maxLength: 40 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: NOTIFICATIONS_PAGE_LIMIT })),
        }),
        response: { 200: NotificationList },
      },
    },
    async (request) => {
      const client = requireUser(request);
      const limit = request.query.limit ?? 20;
      const rows = await repo.page(client.id, decodeCursor(request.query.cursor), limit + 1);
      const items = rows.slice(0, limit);
      return {
        items,
        nextCursor: rows.length > limit ? items[items.length - 1]!.id : null,
        unreadCount: await repo.unreadCount(client.id),
      };
    },
  );

  app.post(
    '/api/v1/notifications/read',
    { schema: { body: NotificationsRead, response: { 200: UnreadCount } } },
    async (request) => {
      const client = requireUser(request);
      const body = request.body;
      if ('all' in body) await repo.markRead(client.id, 'all');
      else {
        body.ids.forEach((id, i) => {
          if (!NOTIFICATION_ID.test(id))
            throw new AppError('VALIDATION_FAILED', `body.ids.${i} is not a notification id.`, {
              errors: [{ field: `body.ids.${i}`, message: 'is not a notification id' }],
            });
        });
        await repo.markRead(client.id, body.ids);
      }
      return { unreadCount: await repo.unreadCount(client.id) };
    },
  );

  app.get(
    '/api/v1/notifications/settings',
    { schema: { response: { 200: NotificationSettings } } },
    async (request) => repo.settings(requireUser(request).id),
  );

  app.patch(
    '/api/v1/notifications/settings',
    { schema: { body: NotificationSettingsPatch, response: { 200: NotificationSettings } } },
    async (request) => {
      const client = requireUser(request);
      await repo.setWentLive(client.id, request.body.wentLive);
      return repo.settings(client.id);
    },
  );

  for (const method of ['PUT', 'DELETE'] as const)
    app.route({
      method,
      url: '/api/v1/notifications/settings/mutes/:channel',
      schema: { params: ChannelParam, response: { 200: NotificationSettings } },
      handler: async (request) => {
        const client = requireUser(request);
        const name = request.params.channel.toLowerCase();
        const channelId = await repo.channelId(name);
        if (!channelId) throw new AppError('NOTIFY_CHANNEL_NOT_FOUND', `No channel named ${name}.`);
        await repo.mute(client.id, channelId, method === 'PUT');
        return repo.settings(client.id);
      },
    });
};
