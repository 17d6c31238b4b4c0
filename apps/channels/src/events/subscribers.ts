import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { EventOf, EventType } from '@neon/contracts';
import type { Db, Queryable } from '@neon/db';
import { ChannelRepository } from '../channels/channel.repository.js';
import { EventSubRepository } from '../eventsub/eventsub.repository.js';
import { enqueueFeedEvent, type FeedEvent } from '../eventsub/eventsub.service.js';

/**
 * Channels' copies of other domains: a channel per user (from identity's
 * events, from the start of the stream so users registered before this
 * service existed get theirs), the channels live now (from live's), and the
 * owner of each OAuth application (identity's).
 */
export async function subscribeProjections(
  bus: Bus,
  db: Db,
  schema: string,
): Promise<Subscription[]> {
  const users = await bus.subscribe({
    group: 'channels.users',
    types: ['identity.user.registered.v1', 'identity.user.updated.v1'],
    from: 'all',
    handler: async (event) => {
      const d = event.data;
      await handleOnce(db, schema, 'channels.users', event.id, (q) =>
        ChannelRepository.upsertUser(q, {
          id: d.userId,
          username: d.username,
          displayName: d.displayName,
          ...(event.type === 'identity.user.updated.v1' ? { avatarUrl: event.data.avatarUrl } : {}),
        }),
      );
    },
  });
  const live = await bus.subscribe({
    group: 'channels.live',
    types: [
      'live.stream.started.v1',
      'live.stream.updated.v1',
      'live.stream.ended.v1',
      'live.viewers.updated.v1',
    ],
    from: 'all',
    handler: async (event) => {
      // A count replaces the last one: applying it twice is harmless, and recording each would
      // cost a row per update.
      if (event.type === 'live.viewers.updated.v1')
        return ChannelRepository.viewers(db, event.data.broadcastId, event.data.viewers);
      await handleOnce(db, schema, 'channels.live', event.id, async (q) => {
        if (event.type === 'live.stream.started.v1')
          await ChannelRepository.liveStarted(q, event.data);
        else if (event.type === 'live.stream.updated.v1')
          await ChannelRepository.liveRetitled(q, event.data);
        else await ChannelRepository.liveEnded(q, event.data.broadcastId);
      });
    },
  });
  // Who owns which OAuth app, for the developer console's view of its webhooks. From the start
  // of the stream: an app whose creation was missed could never be shown to its owner.
  const clients = await bus.subscribe({
    group: 'channels.oauth_clients',
    types: ['identity.oauth_client.created.v1', 'identity.oauth_client.deleted.v1'],
    from: 'all',
    handler: async (event) => {
      await handleOnce(db, schema, 'channels.oauth_clients', event.id, (q) =>
        event.type === 'identity.oauth_client.created.v1'
          ? EventSubRepository.clientCreated(q, event.data.clientId, event.data.ownerId)
          : EventSubRepository.clientDeleted(
              q,
              event.data.clientId,
              event.data.ownerId,
              new Date(event.data.deletedAt),
            ),
      );
    },
  });
  return [users, live, clients];
}

/**
 * Webhooks (EventSub): a start, end or retitle of a broadcast and a new
 * follow become notifications to the subscriptions that match. A consumer
 * group, so the replicas share the events, each taken once; a group new to
 * the bus starts with new events (history is not replayed to webhooks).
 */
export function subscribeEventSub(
  bus: Bus,
  db: Db,
  schema: string,
  kick: () => void,
): Promise<Subscription> {
  return queueing<FeedEvent['type']>(bus, db, schema, kick, {
    group: 'channels.eventsub',
    types: [
      'live.stream.started.v1',
      'live.stream.ended.v1',
      'live.stream.updated.v1',
      'channels.follow.created.v1',
    ],
    from: 'new',
    handle: enqueueFeedEvent,
  });
}

/**
 * Webhooks made with an OAuth authorization that ended (a user disconnected
 * the app, or the app was deleted) end too, each told so. From the start of
 * the stream: a revocation missed would leave an app hearing what it may no
 * longer hear, and one heard again cannot end what was made after it.
 */
export function subscribeAuthorizations(
  bus: Bus,
  db: Db,
  schema: string,
  kick: () => void,
): Promise<Subscription> {
  return queueing(bus, db, schema, kick, {
    group: 'channels.eventsub.authorizations',
    types: ['identity.app_authorization.revoked.v1'],
    from: 'all',
    handle: (q, event) =>
      EventSubRepository.revokeAuthorization(
        q,
        event.data.clientId,
        event.data.userId,
        new Date(event.data.revokedAt),
      ),
  });
}

/**
 * A consumer group whose events queue webhook messages, once each (in the
 * transaction that records the event as handled); the delivery worker is
 * woken when any were queued.
 */
function queueing<T extends EventType>(
  bus: Bus,
  db: Db,
  schema: string,
  kick: () => void,
  o: {
    group: string;
    types: readonly T[];
    from: 'all' | 'new';
    /** The number of messages queued. */
    handle: (q: Queryable, event: { [K in T]: EventOf<K> }[T]) => Promise<number>;
  },
): Promise<Subscription> {
  return bus.subscribe({
    group: o.group,
    types: o.types,
    from: o.from,
    handler: async (event) => {
      let queued = 0;
      await handleOnce(db, schema, o.group, event.id, async (q) => {
        queued = await o.handle(q, event);
      });
      if (queued > 0) kick();
    },
  });
}
