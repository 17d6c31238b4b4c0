import { randomBytes } from 'node:crypto';
import type { Queryable } from '@neon/db';
import {
  CONSOLE_EVENTSUB_PAGE_LIMIT,
  PUBLIC_DEFAULT_PAGE,
  type ConsoleEventSubList,
  type ConsoleEventSubQuery,
  type EventOf,
  type EventSubEvent,
  type EventSubSubscription,
  type PublicCreateEventSubSubscription,
  type PublicEventSubListQuery,
} from '@neon/contracts';
import { AppError, type AppCaller, type Client } from '@neon/kit';
import { categoryOf, ChannelRepository, type ChannelRow } from '../channels/channel.repository.js';
import { decodeCursor, encodeCursor } from '../channels/cursor.js';
import {
  CallbackRefused,
  parseCallback,
  resolveCallback,
  type CallbackPolicy,
  type Resolve,
} from './callback.js';
import { EventSubRepository } from './eventsub.repository.js';
import { consoleSubscriptionView, subscriptionView } from './eventsub.view.js';

export interface EventSubServiceOptions {
  repo: EventSubRepository;
  channels: ChannelRepository;
  policy: CallbackPolicy;
  resolve: Resolve;
  /** How long resolving the callback's host may take. */
  timeoutMs: number;
  maxSubscriptions: number;
  /** Sends what was just queued without waiting for the worker's next tick. */
  kick: () => void;
}

export interface EventSubPage {
  data: EventSubSubscription[];
  total: number;
  maxTotal: number;
  pagination: { cursor: string | null };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An application's webhook subscriptions: who may make which, and the rules of each. */
export class EventSubService {
  constructor(private readonly o: EventSubServiceOptions) {}

  /**
   * Subscribes the calling app; the callback is then sent the challenge. The
   * first three types are public (a live channel, its settings) and any token
   * will do. channel.follow tells who follows: it needs a token acting for
   * the broadcaster or one of its moderators, with channel:read:followers.
   * (Twitch takes an app token and looks for an earlier grant of the user's;
   * channels cannot see identity's grants, so the grant comes with the call.)
   */
  async create(
    caller: AppCaller,
    body: PublicCreateEventSubSubscription,
  ): Promise<EventSubSubscription> {
    const { type, condition, transport } = body;
    let createdBy: string | null = null;
    if (type === 'channel.follow') {
      if (!caller.user)
        throw new AppError(
          'OAUTH_USER_TOKEN_REQUIRED',
          'channel.follow needs a token acting for the broadcaster or one of its moderators.',
        );
      if (!caller.scopes.has('channel:read:followers'))
        throw new AppError(
          'OAUTH_SCOPE_INSUFFICIENT',
          'channel.follow needs channel:read:followers.',
        );
      const role = await this.o.channels.roleOf(condition.broadcasterUserId, caller.user.id);
      // To anyone else, a channel whose followers they may not see looks like no channel.
      if (role !== 'owner' && role !== 'moderator')
        throw new AppError(
          'CHANNELS_CHANNEL_NOT_FOUND',
          'No channel with that id whose followers this user may see.',
        );
      createdBy = caller.user.id;
    }
    if (!(await this.o.channels.byUserId(condition.broadcasterUserId)))
      throw new AppError('CHANNELS_CHANNEL_NOT_FOUND', 'No channel with that broadcasterUserId.');

    let callback: URL;
    try {
      callback = parseCallback(transport.callback, this.o.policy);
      await resolveCallback(callback, this.o.policy, this.o.resolve, this.o.timeoutMs);
    } catch (err) {
      if (!(err instanceof CallbackRefused)) throw err;
      throw new AppError('EVENTSUB_CALLBACK_INVALID', `The callback ${err.message}.`, {
        errors: [{ field: 'body.transport.callback', message: err.message }],
      });
    }

    const made = await this.o.repo.create(
      {
        clientId: caller.clientId,
        type,
        version: body.version,
        broadcasterUserId: condition.broadcasterUserId,
        callback: callback.href,
        secret: transport.secret,
        createdBy,
      },
      randomBytes(24).toString('base64url'),
      this.o.maxSubscriptions,
    );
    if (made === 'exists')
      throw new AppError(
        'EVENTSUB_SUBSCRIPTION_EXISTS',
        'This app has that subscription (type, condition and callback) already.',
      );
    if (made === 'limit')
      throw new AppError(
        'EVENTSUB_SUBSCRIPTION_LIMIT',
        `This app holds ${this.o.maxSubscriptions} subscriptions, the most it may; delete some (failed ones count).`,
      );
    this.o.kick();
    return subscriptionView(made);
  }

  /** The calling app's subscriptions, oldest first; `total` counts them all, whatever the filter. */
  async list(caller: AppCaller, query: PublicEventSubListQuery): Promise<EventSubPage> {
    const { first = PUBLIC_DEFAULT_PAGE, after, status, type } = query;
    const cursor = listCursor(after, 'querystring.after');
    const rows = await this.o.repo.list(
      caller.clientId,
      { ...(status ? { status } : {}), ...(type ? { type } : {}) },
      first + 1,
      cursor,
    );
    const page = rows.slice(0, first);
    const last = page[page.length - 1];
    return {
      data: page.map(subscriptionView),
      total: await this.o.repo.count(caller.clientId),
      maxTotal: this.o.maxSubscriptions,
      pagination: {
        cursor: rows.length > first && last ? encodeCursor({ at: last.raw, id: last.id }) : null,
      },
    };
  }

  /** Deletes one of the calling app's subscriptions; another app's is not found. */
  async remove(caller: AppCaller, id: string): Promise<void> {
    if (!(await this.o.repo.delete(caller.clientId, id)))
      throw new AppError(
        'EVENTSUB_SUBSCRIPTION_NOT_FOUND',
        'This app has no subscription with that id.',
      );
  }

  // ---- the developer console: the app's owner, signed in to Neon

  /**
   * The subscriptions of an app `user` owns, with how delivery goes. Anyone
   * else's app, a deleted one and one never heard of are alike: not found.
   */
  async listForOwner(
    user: Client,
    clientId: string,
    query: ConsoleEventSubQuery,
  ): Promise<ConsoleEventSubList> {
    await this.ownApp(user, clientId);
    const limit = query.limit ?? CONSOLE_EVENTSUB_PAGE_LIMIT;
    const cursor = listCursor(query.cursor, 'querystring.cursor');
    const rows = await this.o.repo.listWithDelivery(clientId, limit + 1, cursor);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(consoleSubscriptionView),
      total: await this.o.repo.count(clientId),
      maxTotal: this.o.maxSubscriptions,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.raw, id: last.id }) : null,
    };
  }

  /** Deletes a subscription of an app `user` owns, as the app itself could. */
  async removeForOwner(user: Client, clientId: string, id: string): Promise<void> {
    await this.ownApp(user, clientId);
    if (!(await this.o.repo.delete(clientId, id)))
      throw new AppError(
        'EVENTSUB_SUBSCRIPTION_NOT_FOUND',
        'This application has no subscription with that id.',
      );
  }

  private async ownApp(user: Client, clientId: string): Promise<void> {
    // Ownership comes from identity's events (channels.oauth_clients), never from identity's tables.
    if ((await this.o.repo.ownerOf(clientId)) !== user.id)
      throw new AppError('OAUTH_APP_NOT_FOUND', 'You have no application with that client id.');
  }
}

/** A list's cursor, or a 400 naming `field` when this list did not hand it out. */
function listCursor(raw: string | undefined, field: string) {
  const cursor = decodeCursor(raw, field);
  if (cursor && !UUID.test(cursor.id))
    throw new AppError('CHANNELS_CURSOR_INVALID', 'This cursor was not handed out by this list.', {
      errors: [{ field, message: 'is not a cursor from this list' }],
    });
  return cursor;
}

// ---- what the platform's events become

function broadcaster(id: string, login: string, row: ChannelRow | null) {
  return {
    broadcasterUserId: id,
    broadcasterUserLogin: row?.username ?? login,
    broadcasterUserName: row?.display_name ?? login,
  };
}

/** The events webhooks report, as they come off the bus. */
export type FeedEvent =
  | EventOf<'live.stream.started.v1'>
  | EventOf<'live.stream.ended.v1'>
  | EventOf<'live.stream.updated.v1'>
  | EventOf<'channels.follow.created.v1'>;

/**
 * Queues the notifications an event makes, in the caller's transaction: a
 * start is stream.online, an end stream.offline, a retitle channel.update, a
 * follow channel.follow. The number of messages queued.
 */
export async function enqueueFeedEvent(q: Queryable, event: FeedEvent): Promise<number> {
  switch (event.type) {
    case 'live.stream.started.v1': {
      const d = event.data;
      const row = await ChannelRepository.rowIn(q, d.userId);
      const payload: EventSubEvent<'stream.online'> = {
        id: d.broadcastId,
        ...broadcaster(d.userId, d.channel, row),
        type: 'live',
        startedAt: d.startedAt,
      };
      return EventSubRepository.enqueue(q, 'stream.online', d.userId, payload);
    }
    case 'live.stream.ended.v1': {
      const d = event.data;
      const row = await ChannelRepository.rowIn(q, d.userId);
      const payload: EventSubEvent<'stream.offline'> = broadcaster(d.userId, d.channel, row);
      return EventSubRepository.enqueue(q, 'stream.offline', d.userId, payload);
    }
    case 'live.stream.updated.v1':
      // The channel's own row may not have the new title yet: the event's is the one reported.
      return enqueueChannelUpdate(q, event.data.userId, event.data.title);
    case 'channels.follow.created.v1': {
      const d = event.data;
      // A moderator who made a channel.follow subscription and has since lost the role
      // hears no more of it.
      await EventSubRepository.revokeLapsedFollowers(q, d.channelId);
      const channel = await ChannelRepository.rowIn(q, d.channelId);
      const follower = await ChannelRepository.rowIn(q, d.userId);
      const payload: EventSubEvent<'channel.follow'> = {
        userId: d.userId,
        userLogin: follower?.username ?? d.username,
        userName: follower?.display_name ?? d.username,
        ...broadcaster(d.channelId, d.channel, channel),
        followedAt: d.followedAt,
      };
      return EventSubRepository.enqueue(q, 'channel.follow', d.channelId, payload);
    }
  }
}

/** Queues channel.update for a channel whose settings (or, with `title`, live title) changed. */
export async function enqueueChannelUpdate(
  q: Queryable,
  userId: string,
  title?: string,
): Promise<number> {
  const row = await ChannelRepository.rowIn(q, userId);
  if (!row) return 0;
  const payload: EventSubEvent<'channel.update'> = {
    ...broadcaster(userId, row.username, row),
    title: title ?? row.title,
    language: row.language,
    category: categoryOf(row),
    tags: row.tags,
    mature: row.mature,
  };
  return EventSubRepository.enqueue(q, 'channel.update', userId, payload);
}
