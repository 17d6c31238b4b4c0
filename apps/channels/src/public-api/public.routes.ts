import {
  PUBLIC_DEFAULT_PAGE,
  PUBLIC_OPENAPI_PATH,
  publicApi,
  publicOpenApi,
  type PublicChannel,
  type PublicStream,
} from '@neon/contracts';
import { AppError, requireApp, requireAppUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import {
  categoryOf,
  type ChannelRepository,
  type ChannelRow,
} from '../channels/channel.repository.js';
import { changeChannel, ownChannel, type ChannelChangeHook } from '../channels/channel.routes.js';
import { decodeCursor, encodeCursor } from '../channels/cursor.js';

export interface PublicRoutesOptions {
  repo: ChannelRepository;
  /** The deployment's public URL: the document's server and OAuth endpoints. */
  publicUrl: string;
  onChange?: ChannelChangeHook;
}

function channelOf(row: ChannelRow): PublicChannel {
  return {
    broadcasterId: row.user_id,
    login: row.username,
    displayName: row.display_name,
    title: row.title,
    category: categoryOf(row),
    tags: row.tags,
    language: row.language,
    mature: row.mature,
    followers: row.followers,
    live: row.live_broadcast !== null,
  };
}

function streamOf(row: ChannelRow): PublicStream {
  return {
    id: row.live_broadcast!,
    userId: row.user_id,
    login: row.username,
    displayName: row.display_name,
    title: row.title,
    category: categoryOf(row),
    tags: row.tags,
    viewers: row.viewers ?? 0,
    startedAt: (row.started_at ?? new Date(0)).toISOString(),
    thumbnailUrl: `/thumbnails/${row.username}.jpg`,
    hlsUrl: `/hls/${row.username}/master.m3u8`,
  };
}

const lower = (logins: string[] | undefined) => logins?.map((l) => l.toLowerCase());

/** `/public/v1` operations on channels, follows and the live list, and the OpenAPI document. */
export const publicRoutes: FastifyPluginAsyncTypebox<PublicRoutesOptions> = async (app, o) => {
  const { repo } = o;
  const { getChannels, modifyChannel, getFollowers, getStreams } = publicApi;
  const document = JSON.stringify(publicOpenApi(o.publicUrl.replace(/\/+$/, '')));

  app.get(PUBLIC_OPENAPI_PATH, async (_request, reply) =>
    reply
      .type('application/json; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(document),
  );

  app.get(
    getChannels.path,
    {
      schema: {
        querystring: getChannels.querystring,
        response: { [getChannels.status]: getChannels.response },
      },
    },
    async (request) => {
      const caller = requireApp(request, getChannels);
      const ids = request.query.broadcasterId ?? [];
      const logins = lower(request.query.login) ?? [];
      if (ids.length === 0 && logins.length === 0) {
        if (!caller.user)
          throw new AppError('VALIDATION_FAILED', 'Give broadcasterId or login.', {
            errors: [{ field: 'querystring.broadcasterId', message: 'or login is required' }],
          });
        return { data: [channelOf(await ownChannel(repo, caller.user))] };
      }
      return { data: (await repo.byIdsOrLogins(ids, logins)).map(channelOf) };
    },
  );

  app.patch(
    modifyChannel.path,
    {
      schema: {
        body: modifyChannel.body,
        response: { [modifyChannel.status]: modifyChannel.response },
      },
    },
    async (request) => {
      const user = requireAppUser(request, modifyChannel);
      await changeChannel(repo, user, request.body, o.onChange);
      return { data: [channelOf(await ownChannel(repo, user))] };
    },
  );

  app.get(
    getFollowers.path,
    {
      schema: {
        querystring: getFollowers.querystring,
        response: { [getFollowers.status]: getFollowers.response },
      },
    },
    async (request) => {
      const user = requireAppUser(request, getFollowers);
      const { broadcasterId, first = PUBLIC_DEFAULT_PAGE, after } = request.query;
      const channel = await repo.byUserId(broadcasterId);
      // Only the owner and the channel's moderators see who follows it; to anyone else a
      // channel they may not read looks the same as one that does not exist.
      const role = channel ? await repo.roleOf(channel.user_id, user.id) : null;
      if (!channel || (role !== 'owner' && role !== 'moderator'))
        throw new AppError(
          'CHANNELS_CHANNEL_NOT_FOUND',
          'No channel with that id whose followers this user may see.',
        );
      const rows = await repo.followers(
        channel.user_id,
        first + 1,
        decodeCursor(after, 'querystring.after'),
      );
      const page = rows.slice(0, first);
      const last = page[page.length - 1];
      return {
        data: page.map((r) => ({
          userId: r.id,
          login: r.username,
          displayName: r.displayName,
          followedAt: r.followedAt,
        })),
        total: channel.followers,
        pagination: {
          cursor: rows.length > first && last ? encodeCursor({ at: last.raw, id: last.id }) : null,
        },
      };
    },
  );

  app.get(
    getStreams.path,
    {
      schema: {
        querystring: getStreams.querystring,
        response: { [getStreams.status]: getStreams.response },
      },
    },
    async (request) => {
      requireApp(request, getStreams);
      const { userId, login, category, first = PUBLIC_DEFAULT_PAGE, after } = request.query;
      const rows = await repo.live(
        {
          ...(userId ? { userIds: userId } : {}),
          ...(login ? { logins: lower(login)! } : {}),
          ...(category ? { category } : {}),
        },
        first + 1,
        decodeCursor(after, 'querystring.after'),
      );
      const page = rows.slice(0, first);
      const last = page[page.length - 1];
      return {
        data: page.map(streamOf),
        pagination: {
          cursor:
            rows.length > first && last
              ? encodeCursor({
                  v: last.viewers ?? 0,
                  at: (last.started_at ?? new Date(0)).toISOString(),
                  id: last.user_id,
                })
              : null,
        },
      };
    },
  );
};
