import { randomUUID } from 'node:crypto';
import { isUsername } from '@neon/contracts';
import Type from 'typebox';
import { AppError, type FastifyPluginAsyncTypebox } from '@neon/kit';
import { NOTIFICATION_ID } from '../notifications/cursor.js';
import type { ConnectionQuota } from '@neon/platform';
import type { NotificationRepository } from '../notifications/notification.repository.js';
import type { StreamHub } from './hub.js';
import { RETRY_MS, SseStream } from './sse.js';

export interface StreamRoutesOptions {
  repo: NotificationRepository;
  hub: StreamHub;
  /** Each user's open streams, on every replica (Redis) or this one (embedded). */
  quota: ConnectionQuota;
  perUser: number;
  maxBuffered: number;
  /** How long a replay waits for a reader to take what it was sent before cutting it off. */
  replayWaitMs: number;
}

/** Public channel topics one stream may watch. */
export const MAX_STREAM_CHANNELS = 100;
const REPLAY_PAGE = 200;

export const streamRoutes: FastifyPluginAsyncTypebox<StreamRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/notifications/stream',
    {
      schema: {
        querystring: Type.Object({
          channels: Type.Optional(Type.String({ maxLength: 2700 })),
          /** Every channel's live status changes (went live, title, ended), for the directory. */
          directory: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request, reply) => {
      const client = request.client;
      const channels = new Set(
        (request.query.channels ?? '')
          .split(',')
          .map((c) => c.trim().toLowerCase())
          .filter((c) => c !== ''),
      );
      for (const c of channels)
        if (!isUsername(c))
          throw new AppError('VALIDATION_FAILED', `querystring.channels: ${c} is not a channel.`, {
            errors: [{ field: 'querystring.channels', message: 'lists channel names' }],
          });
      if (channels.size > MAX_STREAM_CHANNELS)
        throw new AppError(
          'VALIDATION_FAILED',
          `querystring.channels: at most ${MAX_STREAM_CHANNELS}.`,
          { errors: [{ field: 'querystring.channels', message: 'too many channels' }] },
        );
      const directory = request.query.directory === true;
      if (!client && channels.size === 0 && !directory)
        throw new AppError('AUTH_REQUIRED', 'Sign in, or name public channels to watch.');
      const streamId = randomUUID();
      if (client && !(await o.quota.acquire(client.id, streamId, o.perUser)))
        throw new AppError(
          'NOTIFY_TOO_MANY_STREAMS',
          `At most ${o.perUser} open notification streams per user.`,
        );

      const header = request.headers['last-event-id'];
      const resumeFrom =
        client && typeof header === 'string' && NOTIFICATION_ID.test(header) ? header : null;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
      res.socket?.setNoDelay(true);
      const stream = new SseStream(
        res,
        client?.id ?? null,
        channels,
        directory,
        streamId,
        resumeFrom === null ? 0n : BigInt(resumeFrom),
        o.maxBuffered,
        (s) => o.hub.remove(s),
      );
      stream.write(`retry: ${RETRY_MS}\n\n`);
      o.hub.add(stream);
      try {
        if (client && resumeFrom !== null) {
          // From storage, so a restart or another replica loses nothing; live pushes wait meanwhile.
          for (;;) {
            const page = await o.repo.after(client.id, stream.lastId.toString(), REPLAY_PAGE);
            for (const n of page) {
              stream.replay(n.id, JSON.stringify(n));
              if (!(await stream.keptUp(o.replayWaitMs))) return;
            }
            if (page.length < REPLAY_PAGE) break;
          }
        }
      } catch (err) {
        request.log.warn({ err }, 'notification replay failed');
        stream.close();
        return;
      } finally {
        stream.replayed();
      }
    },
  );
};
