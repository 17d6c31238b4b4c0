import Type from 'typebox';
import {
  ChannelStream,
  LiveStreamList,
  publicApi,
  StreamSettings,
  UpdateStreamRequest,
  Username,
  type LiveStream,
} from '@neon/contracts';
import { AppError, requireAppUser, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import type { StreamKeyService } from '../stream-keys/stream-key.service.js';
import type { ChannelRepository } from '../stream-keys/channel.repository.js';
import type { VideoRepository, VideoRow } from '../vod/video.repository.js';
import type { ViewersService } from '../viewers/viewers.service.js';
import type { StreamService } from './stream.service.js';

export interface StreamRoutesOptions {
  keys: StreamKeyService;
  channels: ChannelRepository;
  videos: VideoRepository;
  broadcasts: BroadcastManager;
  viewers: ViewersService;
  stream: StreamService;
}

export const streamRoutes: FastifyPluginAsyncTypebox<StreamRoutesOptions> = async (app, o) => {
  async function toLiveStream(v: VideoRow): Promise<LiveStream> {
    return {
      broadcastId: v.id,
      channel: v.channel,
      userId: v.user_id,
      title: v.title,
      viewers: await o.viewers.count(v.channel),
      startedAt: v.started_at.toISOString(),
      thumbnailUrl: `/thumbnails/${v.channel}.jpg`,
      hlsUrl: `/hls/${v.channel}/master.m3u8`,
      dashUrl: `/dash/${v.channel}/manifest.mpd`,
      renditions: v.renditions,
    };
  }

  async function settings(userId: string, username: string): Promise<StreamSettings> {
    const channel = await o.channels.byUserId(userId);
    const b = o.broadcasts.get(username);
    const row = b ? null : await o.videos.liveOf(username);
    const stats = b?.stats() ?? null;
    return {
      title: channel?.title ?? `${username} is live`,
      live: Boolean(b ?? row),
      broadcastId: b?.id ?? row?.id ?? null,
      ingest: b && stats ? { ...stats, health: b.health(o.broadcasts.capacity().full) } : null,
      lastDisconnect: o.broadcasts.lastDisconnect(username),
    };
  }

  app.get(
    '/api/v1/me/stream',
    { schema: { response: { 200: StreamSettings } } },
    async (request) => {
      const client = requireUser(request);
      await o.keys.channelOf(client);
      return settings(client.id, client.username);
    },
  );

  app.patch(
    '/api/v1/me/stream',
    { schema: { body: UpdateStreamRequest, response: { 200: StreamSettings } } },
    async (request) => {
      const client = requireUser(request);
      await o.stream.setTitle(client, request.body.title, request.log);
      return settings(client.id, client.username);
    },
  );

  const updateStreamTitle = publicApi.updateStreamTitle;
  app.route({
    method: updateStreamTitle.method,
    url: updateStreamTitle.path,
    schema: { body: updateStreamTitle.body },
    handler: async (request, reply) => {
      const client = requireAppUser(request, updateStreamTitle);
      await o.stream.setTitle(client, request.body.title, request.log);
      return reply.status(updateStreamTitle.status).send();
    },
  });

  app.post(
    '/api/v1/me/stream/end',
    { schema: { response: { 200: StreamSettings } } },
    async (request) => {
      const client = requireUser(request);
      await o.keys.channelOf(client);
      const b = o.broadcasts.get(client.username);
      if (!b) throw new AppError('LIVE_NOT_LIVE', 'You are not live.');
      // The publisher is closed, the playlists end (ENDLIST) and the recording is kept as a video.
      await o.broadcasts.end(b, 'ended', 'ended by its owner', true);
      return settings(client.id, client.username);
    },
  );

  app.get('/api/v1/streams', { schema: { response: { 200: LiveStreamList } } }, async () => {
    const rows = await o.videos.listLive();
    const items = await Promise.all(rows.map(toLiveStream));
    items.sort((a, b) => b.viewers - a.viewers || a.startedAt.localeCompare(b.startedAt));
    return { items };
  });

  app.get(
    '/api/v1/channels/:username/stream',
    {
      schema: {
        params: Type.Object({ username: Username }),
        response: { 200: ChannelStream },
      },
    },
    async (request) => {
      const { username } = request.params;
      const row = await o.videos.liveOf(username);
      if (row) return { channel: username, live: true, stream: await toLiveStream(row) };
      const user = await o.channels.userByUsername(username);
      if (!user) throw new AppError('LIVE_CHANNEL_NOT_FOUND', `No channel named ${username}.`);
      return { channel: username, live: false, stream: null };
    },
  );
};
