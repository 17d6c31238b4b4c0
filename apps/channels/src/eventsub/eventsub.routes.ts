import { publicApi } from '@neon/contracts';
import { requireApp, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { EventSubService } from './eventsub.service.js';

export interface EventSubRoutesOptions {
  service: EventSubService;
}

/** `/public/v1/eventsub/subscriptions`: an application's webhooks. */
export const eventsubRoutes: FastifyPluginAsyncTypebox<EventSubRoutesOptions> = async (app, o) => {
  const { service } = o;
  const { createEventSubSubscription, getEventSubSubscriptions, deleteEventSubSubscription } =
    publicApi;

  app.post(
    createEventSubSubscription.path,
    {
      schema: {
        body: createEventSubSubscription.body,
        response: { [createEventSubSubscription.status]: createEventSubSubscription.response },
      },
    },
    async (request, reply) => {
      const caller = requireApp(request, createEventSubSubscription);
      const subscription = await service.create(caller, request.body);
      return reply.code(createEventSubSubscription.status).send({ data: [subscription] });
    },
  );

  app.get(
    getEventSubSubscriptions.path,
    {
      schema: {
        querystring: getEventSubSubscriptions.querystring,
        response: { [getEventSubSubscriptions.status]: getEventSubSubscriptions.response },
      },
    },
    async (request) => service.list(requireApp(request, getEventSubSubscriptions), request.query),
  );

  app.delete(
    deleteEventSubSubscription.path,
    { schema: { querystring: deleteEventSubSubscription.querystring } },
    async (request, reply) => {
      await service.remove(requireApp(request, deleteEventSubSubscription), request.query.id);
      return reply.code(deleteEventSubSubscription.status).send();
    },
  );
};
