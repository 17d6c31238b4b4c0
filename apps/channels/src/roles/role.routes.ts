import Type from 'typebox';
import { UsernameParam, ChannelRoles } from '@neon/contracts';
import { AppError, requireRole, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { ChannelRepository, ChannelRow } from '../channels/channel.repository.js';
import { channelNamed, ownChannel } from '../channels/channel.routes.js';

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

  /** Grants or revokes a role on `channel` for the named user, as `actorId` (audited). */
  const change = async (
    method: 'PUT' | 'DELETE',
    channel: ChannelRow,
    kind: keyof typeof KINDS,
    name: string,
    actorId: string,
  ) => {
    const role = KINDS[kind];
    const username = name.toLowerCase();
    const target = await repo.byUsername(username);
    if (!target) throw new AppError('CHANNELS_USER_NOT_FOUND', `No user named ${username}.`);
    if (target.user_id === channel.user_id)
      throw new AppError('CHANNELS_ROLE_SELF', 'The owner already holds every channel right.');
    const event = {
      channel: channel.username,
      userId: target.user_id,
      username: target.username,
      role,
    };
    const changed =
      method === 'PUT'
        ? await repo.grant(channel.user_id, target.user_id, role, actorId, event)
        : await repo.revoke(channel.user_id, target.user_id, role, actorId, event);
    // Answered once the event is on the bus, so chat applies the change moments after.
    if (changed) await o.publish();
    return repo.roles(channel.user_id);
  };

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({
      method,
      url: '/api/v1/me/channel/:kind/:username',
      schema: { params, response: { 200: ChannelRoles } },
      handler: async (request) => {
        const client = requireUser(request);
        const channel = await ownChannel(repo, client);
        return change(method, channel, request.params.kind, request.params.username, client.id);
      },
    });
  }

  // Admins manage the roles of any channel; the audit names the admin.
  const adminParams = Type.Object({ channel: UsernameParam });
  app.get(
    '/admin/v1/channels/:channel/roles',
    { schema: { params: adminParams, response: { 200: ChannelRoles } } },
    async (request) => {
      requireRole(request, 'admin');
      const channel = await channelNamed(repo, request.params.channel);
      return repo.roles(channel.user_id);
    },
  );
  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({
      method,
      url: '/admin/v1/channels/:channel/:kind/:username',
      schema: {
        params: Type.Object({ channel: UsernameParam, ...params.properties }),
        response: { 200: ChannelRoles },
      },
      handler: async (request) => {
        const admin = requireRole(request, 'admin');
        const channel = await channelNamed(repo, request.params.channel);
        return change(method, channel, request.params.kind, request.params.username, admin.id);
      },
    });
  }
};
