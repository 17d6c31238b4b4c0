import Type from 'typebox';
import { isUsername, isErrorCode } from '@neon/contracts';
import { AppError, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Broadcast } from '../broadcasts/broadcast.js';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import type { PlaylistQuery } from '../broadcasts/pipeline.js';
import type { ViewersService } from '../viewers/viewers.service.js';
import { playerIdentity } from '../viewers/viewer-counter.js';
import { CACHE_IMMUTABLE, CACHE_PLAYLIST, contentTypeOf, isSafeName } from './media-types.js';

export interface OriginRoutesOptions {
  broadcasts: BroadcastManager;
  viewers: ViewersService;
}

export const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range',
  'access-control-expose-headers': 'Content-Length, Content-Type',
};

const PlayerQuery = Type.Object({
  v: Type.Optional(Type.String({ maxLength: 64 })),
  // The streamer's own dashboard preview: it plays, but it is not an audience.
  preview: Type.Optional(Type.Literal('1')),
  _HLS_msn: Type.Optional(Type.String({ maxLength: 12 })),
  _HLS_part: Type.Optional(Type.String({ maxLength: 12 })),
  _HLS_skip: Type.Optional(Type.String({ maxLength: 4 })),
});

const DECIMAL = /^\d{1,10}$/;

/**
 * The blocking-reload directives of a media playlist request
 * (draft-pantos-hls-rfc8216bis §6.2.5.2): `_HLS_part` needs `_HLS_msn`, both are
 * decimal integers, `_HLS_skip` is YES or v2.
 */
export function parsePlaylistQuery(q: {
  _HLS_msn?: string | undefined;
  _HLS_part?: string | undefined;
  _HLS_skip?: string | undefined;
}): PlaylistQuery {
  const out: PlaylistQuery = {};
  if (q._HLS_msn !== undefined) {
    if (!DECIMAL.test(q._HLS_msn))
      throw new AppError('LIVE_PLAYLIST_REQUEST_INVALID', '_HLS_msn must be a decimal integer.');
    out.msn = Number(q._HLS_msn);
  }
  if (q._HLS_part !== undefined) {
    if (out.msn === undefined)
      throw new AppError('LIVE_PLAYLIST_REQUEST_INVALID', '_HLS_part requires _HLS_msn.');
    if (!DECIMAL.test(q._HLS_part))
      throw new AppError('LIVE_PLAYLIST_REQUEST_INVALID', '_HLS_part must be a decimal integer.');
    out.part = Number(q._HLS_part);
  }
  if (q._HLS_skip !== undefined) {
    if (q._HLS_skip !== 'YES' && q._HLS_skip !== 'v2')
      throw new AppError('LIVE_PLAYLIST_REQUEST_INVALID', '_HLS_skip must be YES or v2.');
    out.skip = q._HLS_skip;
  }
  return out;
}

/** Maps the pipeline's request errors (which carry one of our codes) onto problem+json. */
function mediaError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && isErrorCode(code) && !(err instanceof AppError)) {
    return new AppError(code, err instanceof Error ? err.message : undefined, { cause: err });
  }
  return err;
}

function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // One listener per response (never per keep-alive socket): a close before the
  // response finished means the player went away while we waited for media.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The player left while we waited for media: nobody to answer, and nothing failed. */
function abandoned(reply: FastifyReply): FastifyReply {
  reply.hijack();
  if (!reply.raw.destroyed) reply.raw.destroy();
  return reply;
}

/** The LL-HLS and DASH origin: public, served from the pipeline's memory while live. */
export const originRoutes: FastifyPluginAsyncTypebox<OriginRoutesOptions> = async (app, o) => {
  /** The channel's live broadcast, or the one that just ended cleanly (playlists with ENDLIST). */
  function live(channel: string): Broadcast {
    const b = isUsername(channel) ? o.broadcasts.serving(channel) : null;
    if (!b?.pipeline || b.state === 'publishing')
      throw new AppError('LIVE_NOT_LIVE', `${channel} is not live.`, { headers: CORS });
    return b;
  }

  function countViewer(
    request: FastifyRequest,
    b: Broadcast,
    channel: string,
    query: { v?: string; preview?: '1' },
  ): void {
    // A player reading the end of a finished broadcast is not watching anything live.
    if (!b.live || query.preview) return;
    o.viewers.touch(
      channel,
      playerIdentity(query.v, request.clientIp, request.headers['user-agent'] ?? ''),
    );
  }

  function send(reply: FastifyReply, body: string | Uint8Array, type: string, cache: string) {
    return reply.headers({ ...CORS, 'content-type': type, 'cache-control': cache }).send(body);
  }

  app.options('/hls/*', async (_request, reply) => reply.headers(CORS).status(204).send());
  app.options('/dash/*', async (_request, reply) => reply.headers(CORS).status(204).send());

  // Any channel name that is not live is a 404, well-formed or not: players get one answer.
  const channelParams = Type.Object({ channel: Type.String({ maxLength: 64 }) });

  app.get(
    '/hls/:channel/master.m3u8',
    { schema: { params: channelParams, querystring: PlayerQuery } },
    async (request, reply) => {
      const { channel } = request.params;
      const b = live(channel);
      const master = b.pipeline!.masterPlaylist();
      if (master === null)
        throw new AppError('LIVE_NOT_LIVE', `${channel} is starting.`, { headers: CORS });
      countViewer(request, b, channel, request.query);
      return send(reply, master, 'application/vnd.apple.mpegurl', CACHE_PLAYLIST);
    },
  );

  const fileParams = Type.Object({
    channel: Type.String({ maxLength: 64 }),
    rendition: Type.String({ maxLength: 128 }),
    file: Type.String({ maxLength: 128 }),
  });

  app.get(
    '/hls/:channel/:rendition/:file',
    { schema: { params: fileParams, querystring: PlayerQuery } },
    async (request, reply) => {
      const { channel, rendition, file } = request.params;
      if (!isSafeName(rendition) || !isSafeName(file))
        throw new AppError('NOT_FOUND', 'No such file.');
      const b = live(channel);
      if (file.endsWith('.m3u8')) {
        const query = parsePlaylistQuery(request.query);
        countViewer(request, b, channel, request.query);
        let body: string;
        const signal = abortOnClose(reply);
        try {
          body = await b.pipeline!.mediaPlaylist(rendition, query, signal);
        } catch (err) {
          if (signal.aborted) return abandoned(reply);
          throw mediaError(err);
        }
        return send(reply, body, 'application/vnd.apple.mpegurl', CACHE_PLAYLIST);
      }
      return resource(request, reply, b, rendition, file);
    },
  );

  async function resource(
    request: FastifyRequest,
    reply: FastifyReply,
    b: Broadcast,
    rendition: string,
    file: string,
  ) {
    let found: { body: Uint8Array; contentType: string } | null;
    const signal = abortOnClose(reply);
    try {
      found = await b.pipeline!.resource(rendition, file, signal);
    } catch (err) {
      if (signal.aborted) return abandoned(reply);
      throw mediaError(err);
    }
    if (!found) throw new AppError('NOT_FOUND', 'No such segment or part.', { headers: CORS });
    // The hot path of playback: written straight to the socket, without Fastify's reply pipeline.
    reply.hijack();
    reply.raw.writeHead(200, {
      ...CORS,
      'content-type': found.contentType || contentTypeOf(file) || 'video/mp4',
      'content-length': found.body.byteLength,
      'cache-control': CACHE_IMMUTABLE,
      'x-request-id': request.id,
    });
    reply.raw.end(found.body);
    return reply;
  }

  app.get(
    '/dash/:channel/manifest.mpd',
    { schema: { params: channelParams, querystring: PlayerQuery } },
    async (request, reply) => {
      const { channel } = request.params;
      const b = live(channel);
      const mpd = b.pipeline!.dashManifest();
      if (mpd === null)
        throw new AppError('LIVE_NOT_LIVE', `${channel} is starting.`, { headers: CORS });
      countViewer(request, b, channel, request.query);
      return send(reply, mpd, 'application/dash+xml', CACHE_PLAYLIST);
    },
  );

  app.get(
    '/dash/:channel/:rendition/:file',
    { schema: { params: fileParams } },
    async (request, reply) => {
      const { channel, rendition, file } = request.params;
      if (!isSafeName(rendition) || !isSafeName(file))
        throw new AppError('NOT_FOUND', 'No such file.');
      return resource(request, reply, live(channel), rendition, file);
    },
  );
};
