import Type from 'typebox';
import { ChannelRoles } from '@neon/contracts';
import { AppError, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { ChannelRepository } from '../channels/channel.repository.js';
import { UsernameParam, ownChannel } from '../channels/channel.routes.js';

export interface RoleRoutesOptions {
  repo: ChannelRepository;
  /** Publishes the outbox now; a failure leaves the events there for the relay's retries. */
  publish: () => Promise<void>;
}

const KINDS = { moderators: 'moderator', vips: 'vip' } as const;

export const roleRoutes: FastifyPluginAsyncTypebox<RoleRoutesOptions> = async (app, o) => {
  const { repo } = o;
  const params = Type.Object({
    kind: Type.Union([Type.Literal('moderators'), Type.Literal('vips')]),
    username: UsernameParam,
  });

  app.get(
    '/api/v1/me/channel/roles',
    { schema: { response: { 200: ChannelRoles } } },
    async (request) => {
      const client = requireUser(request);
      await ownChannel(repo, client);
      return repo.roles(client.id);
    },
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({
      method,
      url: '/api/v1/me/channel/:kind/:username',
      schema: { params, response: { 200: ChannelRoles } },
      handler: async (request) => {
        const client = requireUser(request);
        const channel = await ownChannel(repo, client);
        const role = KINDS[request.params.kind];
        const username = request.params.username.toLowerCase();
        const target = await repo.byUsername(username);
        if (!target) throw new AppError('CHANNELS_USER_NOT_FOUND', `No user named ${username}.`);
        if (target.user_id === client.id)
          throw new AppError('CHANNELS_ROLE_SELF', 'The owner already holds every channel right.');
        const event = {
          channel: channel.username,
          userId: target.user_id,
          username: target.username,
          role,
        };
        const changed =
          method === 'PUT'
            ? await repo.grant(client.id, target.user_id, role, client.id, event)
            : await repo.revoke(client.id, target.user_id, role, client.id, event);
        // Answered once the event is on the bus, so chat applies the change moments after.
        if (changed) await o.publish();
        return repo.roles(client.id);
      },
    });
  }
};
