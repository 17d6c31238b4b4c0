import {
  ConsoleEventSubItemParams,
  ConsoleEventSubList,
  ConsoleEventSubParams,
  ConsoleEventSubQuery,
} from '@neon/contracts';
import { requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { EventSubService } from './eventsub.service.js';

export interface EventSubConsoleRoutesOptions {
  service: EventSubService;
}

/**
 * `/api/v1/eventsub/apps/:clientId/subscriptions`: an application's webhooks
 * as its owner sees them in the developer console (signed in to Neon, not
 * with the app's token).
 */
export const eventsubConsoleRoutes: FastifyPluginAsyncTypebox<
  EventSubConsoleRoutesOptions
> = async (app, o) => {
  const { service } = o;

  app.get(
    '/api/v1/eventsub/apps/:clientId/subscriptions',
    {
      schema: {
        params: ConsoleEventSubParams,
        querystring: ConsoleEventSubQuery,
        response: { 200: ConsoleEventSubList },
      },
    },
    async (request, reply) => {
      const list = await service.listForOwner(
        requireUser(request),
        request.params.clientId,
        request.query,
      );
      // Statuses change as callbacks answer: a cached copy would show a stale one.
      return reply.header('cache-control', 'no-store').send(list);
    },
  );

  app.delete(
    '/api/v1/eventsub/apps/:clientId/subscriptions/:id',
    { schema: { params: ConsoleEventSubItemParams } },
    async (request, reply) => {
      await service.removeForOwner(
        requireUser(request),
        request.params.clientId,
        request.params.id,
      );
      return reply.code(204).send();
    },
  );
};
