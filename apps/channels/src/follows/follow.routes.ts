import Type from 'typebox';
import {
  UsernameParam,
  CHANNELS_PAGE_LIMIT,
  FollowList,
  FollowState,
  FollowerList,
} from '@neon/contracts';
import { AppError, requireUser, type FastifyPluginAsyncTypebox } from '@neon/kit';
import { summaryOf, type ChannelRepository } from '../channels/channel.repository.js';
import { channelNamed, ownChannel } from '../channels/channel.routes.js';
import { decodeCursor, encodeCursor } from '../channels/cursor.js';
import type { FollowLimiter } from './rate-limit.js';

export interface FollowRoutesOptions {
  repo: ChannelRepository;
  /** Publishes the outbox now; a failure leaves the events there for the relay's retries. */
  publish: () => Promise<void>;
  limiter: FollowLimiter;
  /** Follows and unfollows per user per window. */
  limit: number;
  windowMs: number;
}

const Page = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHANNELS_PAGE_LIMIT, default: 25 })),
});

export const followRoutes: FastifyPluginAsyncTypebox<FollowRoutesOptions> = async (app, o) => {
  const { repo } = o;
  const params = Type.Object({ username: UsernameParam });

  async function admit(userId: string): Promise<void> {
    const wait = await o.limiter.take(userId, o.limit, o.windowMs);
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new AppError(
        'RATE_LIMITED',
        `Too many follows and unfollows: try again in ${seconds} s.`,
        { headers: { 'retry-after': String(seconds) } },
      );
    }
  }

  /** One handler for both verbs: the same checks and budget, then the change and its event. */
  async function setFollow(
    request: Parameters<typeof requireUser>[0] & { params: { username: string } },
    following: boolean,
  ): Promise<FollowState> {
    const client = requireUser(request);
    const channel = await channelNamed(repo, request.params.username);
    if (channel.user_id === client.id)
      throw new AppError('CHANNELS_FOLLOW_SELF', 'You cannot follow your own channel.');
    await admit(client.id);
    const event = {
      channel: channel.username,
      channelId: channel.user_id,
      userId: client.id,
      username: client.username,
    };
    let changed;
    if (following) {
      await repo.ensure(client);
      changed = await repo.follow(client.id, channel.user_id, event);
    } else {
      changed = await repo.unfollow(client.id, channel.user_id, event);
    }
    if (changed) await o.publish();
    return { following, followers: await repo.followerCount(channel.user_id) };
  }

  app.put(
    '/api/v1/channels/:username/follow',
    { schema: { params, response: { 200: FollowState } } },
    (request) => setFollow(request, true),
  );

  app.delete(
    '/api/v1/channels/:username/follow',
    { schema: { params, response: { 200: FollowState } } },
    (request) => setFollow(request, false),
  );

  app.get(
    '/api/v1/me/follows',
    { schema: { querystring: Page, response: { 200: FollowList } } },
    async (request) => {
      const client = requireUser(request);
      const limit = request.query.limit ?? 25;
      const after = decodeCursor(request.query.cursor);
      const { rows } = await repo.following(client.id, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({ ...summaryOf(r), followedAt: r.followed_at.toISOString() })),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({
                live: last.live_broadcast !== null ? 1 : 0,
                at: last.followed_raw,
                id: last.user_id,
              })
            : null,
      };
    },
  );

  app.get(
    '/api/v1/channels/:username/followers',
    { schema: { params, querystring: Page, response: { 200: FollowerList } } },
    async (request) => {
      const channel = await channelNamed(repo, request.params.username);
      const client = request.client;
      const mayList =
        client !== null && (client.id === channel.user_id || client.roles.includes('admin'));
      if (!mayList) return { count: channel.followers, items: null, nextCursor: null };
      if (client.id === channel.user_id) await ownChannel(repo, client);
      const limit = request.query.limit ?? 25;
      const rows = await repo.followers(
        channel.user_id,
        limit + 1,
        decodeCursor(request.query.cursor),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        count: channel.followers,
        items: page.map(({ username, displayName, followedAt }) => ({
          username,
          displayName,
          followedAt,
        })),
        nextCursor:
          rows.length > limit && last ? encodeCursor({ at: last.raw, id: last.id }) : null,
      };
    },
  );
};
