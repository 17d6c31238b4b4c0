import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import {
  PUBLIC_DEFAULT_PAGE,
  publicApi,
  UpdateVideoRequest,
  Username,
  Video,
  VideoList,
  type PublicVideo,
} from '@neon/contracts';
import {
  AppError,
  requireApp,
  requireAppUser,
  requireUser,
  SizedCache,
  type FastifyPluginAsyncTypebox,
} from '@neon/kit';
import type { ChannelRepository } from '../stream-keys/channel.repository.js';
import {
  CACHE_IMMUTABLE,
  CACHE_PLAYLIST,
  contentTypeOf,
  isSafeName,
} from '../origin/media-types.js';
import { safeJoin, sendFile } from '../origin/static-file.js';
import type { VideoRepository, VideoRow } from './video.repository.js';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import { decodeVideoCursor, encodeVideoCursor } from './video-cursor.js';
import type { VideoService } from './video.service.js';
import type { ObjectStore, StoredObject } from './object-store.js';

export interface VideoRoutesOptions {
  videos: VideoRepository;
  service: VideoService;
  channels: ChannelRepository;
  broadcasts: BroadcastManager;
  mediaDir: string;
  /** The bucket recordings move to; null: they stay in `mediaDir`. */
  store: ObjectStore | null;
  /** Bytes of bucket files kept in memory (0: none). */
  cacheBytes: number;
}

const VideoId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});

export function toVideo(v: VideoRow, expiresAt: Date | null = null): Video {
  return {
    id: v.id,
    channel: v.channel,
    title: v.title,
    startedAt: v.started_at.toISOString(),
    durationSeconds: Math.round(v.duration_seconds * 1000) / 1000,
    thumbnailUrl: v.has_thumbnail ? `/thumbnails/vod/${v.id}.jpg` : null,
    playlistUrl: `/vod/${v.id}/master.m3u8`,
    keep: v.keep,
    expiresAt: expiresAt?.toISOString() ?? null,
  };
}

/** A video as `/public/v1` shows it: the same as `Video`, with its owner's id. */
export function toPublicVideo(v: VideoRow): PublicVideo {
  const { channel, keep: _keep, expiresAt: _expires, ...video } = toVideo(v);
  return { ...video, userId: v.user_id, login: channel };
}

/** Past broadcasts: listing, details, deletion by the owner, and their files. */
export const videoRoutes: FastifyPluginAsyncTypebox<VideoRoutesOptions> = async (app, o) => {
  async function vod(id: string): Promise<VideoRow> {
    const v = await o.videos.get(id);
    if (!v || !v.master_path) throw new AppError('LIVE_VIDEO_NOT_FOUND', 'No such video.');
    return v;
  }
  const shown = (v: VideoRow): Video => toVideo(v, o.service.expiresAt(v));

  // Bucket files are immutable once there (a video is only ever stored whole, after it ended):
  // a replica fetches each once. The row is read first, so a deleted video is never served.
  const cache =
    o.cacheBytes > 0
      ? new SizedCache<StoredObject>(o.cacheBytes, (f) => f.body.byteLength, o.cacheBytes / 8)
      : null;

  /** Sends a file of a video from wherever it is now; false when it has no such file. */
  async function sendVideoFile(
    reply: FastifyReply,
    v: VideoRow,
    parts: string[],
    cacheControl: string,
  ): Promise<boolean> {
    if (v.storage === 'local' || !o.store) {
      const path = safeJoin(join(o.mediaDir, v.id), parts);
      return path !== null && (await sendFile(reply, path, cacheControl));
    }
    const type = contentTypeOf(parts[parts.length - 1] ?? '');
    if (!type || !parts.every(isSafeName)) return false;
    const key = o.store.key(v.id, parts.join('/'));
    let file = cache?.get(key) ?? null;
    if (!file) {
      file = await o.store.get(key);
      if (!file) return false;
      cache?.set(key, file);
    }
    void reply
      .headers({
        'content-type': type,
        'content-length': String(file.body.byteLength),
        'cache-control': cacheControl,
        'access-control-allow-origin': '*',
      })
      .send(Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength));
    return true;
  }

  app.get(
    '/api/v1/channels/:username/videos',
    {
      schema: {
        params: Type.Object({ username: Username }),
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        }),
        response: { 200: VideoList },
      },
    },
    async (request) => {
      const { username } = request.params;
      const rows = await o.videos.listEnded(username, request.query.limit ?? 50);
      if (rows.length === 0 && !(await o.channels.userByUsername(username)))
        throw new AppError('LIVE_CHANNEL_NOT_FOUND', `No channel named ${username}.`);
      return { items: rows.map(shown) };
    },
  );

  const idParams = Type.Object({ id: VideoId });

  app.get(
    '/api/v1/videos/:id',
    { schema: { params: idParams, response: { 200: Video } } },
    async (request) => shown(await vod(request.params.id)),
  );

  app.patch(
    '/api/v1/videos/:id',
    { schema: { params: idParams, body: UpdateVideoRequest, response: { 200: Video } } },
    async (request) => {
      const client = requireUser(request);
      const v = await vod(request.params.id);
      if (v.user_id !== client.id)
        throw new AppError('FORBIDDEN', 'Only the owner may change a video.');
      const { keep } = request.body;
      const title = request.body.title?.trim();
      if (title === '')
        throw new AppError('VALIDATION_FAILED', 'A title is needed.', {
          errors: [{ field: 'title', message: 'must not be blank' }],
        });
      if (title !== undefined) await o.videos.rename(v.id, title);
      if (keep !== undefined) await o.videos.setKeep(v.id, keep);
      return shown({ ...v, title: title ?? v.title, keep: keep ?? v.keep });
    },
  );

  app.delete('/api/v1/videos/:id', { schema: { params: idParams } }, async (request, reply) => {
    const client = requireUser(request);
    const outcome = await o.service.delete(client.id, request.params.id);
    if (outcome === 'missing') throw new AppError('LIVE_VIDEO_NOT_FOUND', 'No such video.');
    if (outcome === 'not-owner')
      throw new AppError('FORBIDDEN', 'Only the owner may delete a video.');
    return reply.status(204).send();
  });

  const getVideos = publicApi.getVideos;
  app.route({
    method: getVideos.method,
    url: getVideos.path,
    schema: { querystring: getVideos.querystring, response: { 200: getVideos.response } },
    handler: async (request) => {
      requireApp(request, getVideos);
      const { userId, first = PUBLIC_DEFAULT_PAGE, after } = request.query;
      // An unknown user has no videos: an empty page, not a 404, as for any filter.
      const rows = await o.videos.pageEndedOfUser(userId, first + 1, decodeVideoCursor(after));
      const page = rows.slice(0, first);
      const last = page[page.length - 1];
      return {
        data: page.map(toPublicVideo),
        pagination: {
          cursor:
            rows.length > first && last
              ? encodeVideoCursor({ at: last.cursor_at, id: last.id })
              : null,
        },
      };
    },
  });

  const deleteVideo = publicApi.deleteVideo;
  app.route({
    method: deleteVideo.method,
    url: deleteVideo.path,
    schema: { params: deleteVideo.params },
    handler: async (request, reply) => {
      const client = requireAppUser(request, deleteVideo);
      // Someone else's video answers as an unknown one: an application cannot probe for ids.
      if ((await o.service.delete(client.id, request.params.id)) !== 'deleted')
        throw new AppError('LIVE_VIDEO_NOT_FOUND', 'No such video.');
      return reply.status(deleteVideo.status).send();
    },
  });

  app.get(
    '/vod/:id/*',
    // The wildcard is checked here, not in the schema: TypeBox builds a regular expression
    // from each property name, and `*` is not a valid one.
    { schema: { params: Type.Object({ id: VideoId }) } },
    async (request, reply) => {
      const rest = (request.params as { '*'?: string })['*'] ?? '';
      if (rest.length > 512) throw new AppError('VALIDATION_FAILED', 'The file path is too long.');
      const v = await vod(request.params.id);
      // The stable URL names the master playlist whatever the pipeline called it.
      const parts = rest === 'master.m3u8' ? v.master_path!.split('/') : rest.split('/');
      const cacheControl = parts[parts.length - 1]?.endsWith('.m3u8')
        ? CACHE_PLAYLIST
        : CACHE_IMMUTABLE;
      if (!(await sendVideoFile(reply, v, parts, cacheControl)))
        throw new AppError('NOT_FOUND', 'No such file in this video.');
      return reply;
    },
  );

  app.get(
    '/thumbnails/vod/:file',
    {
      schema: { params: Type.Object({ file: Type.String({ pattern: '^[0-9a-f-]{36}\\.jpg$' }) }) },
    },
    async (request, reply) => {
      const v = await vod(request.params.file.slice(0, 36));
      if (!(await sendVideoFile(reply, v, ['thumbnail.jpg'], CACHE_IMMUTABLE)))
        throw new AppError('NOT_FOUND', 'This video has no thumbnail.');
      return reply;
    },
  );

  app.get(
    '/thumbnails/:file',
    {
      schema: {
        params: Type.Object({ file: Type.String({ pattern: '^[a-z0-9_]{3,25}\\.jpg$' }) }),
      },
    },
    async (request, reply) => {
      const channel = request.params.file.slice(0, -4);
      const b = o.broadcasts.get(channel);
      const id = b?.id ?? (await o.videos.liveOf(channel))?.id;
      if (!id) throw new AppError('LIVE_NOT_LIVE', `${channel} is not live.`);
      // Live, but its first frame is not grabbed yet (some seconds): nothing to show, which is
      // not an error — a page's card keeps its placeholder, and no browser logs a failed load.
      if (!(await sendFile(reply, join(o.mediaDir, id, 'thumbnail.jpg'), 'public, max-age=10')))
        return reply.status(204).header('cache-control', 'no-store').send();
      return reply;
    },
  );
};
