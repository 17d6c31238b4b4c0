import { handleOnce, type Bus, type OutboxRelay, type Subscription } from '@neon/bus';
import type { Db } from '@neon/db';
import type { Logger } from '@neon/kit';
import {
  NotificationRepository,
  type FanOutPage,
} from '../notifications/notification.repository.js';

/**
 * Notify's copies of other domains and the notifications they cause: the
 * follows (from the start of channels' stream, so follows made before this
 * service ran count), suspended channel owners, went-live fan-out (pages of a
 * big channel's followers shared by the replicas) and role grants. Each event
 * is handled once per group, in one transaction with its writes.
 */
export async function subscribeNotifications(o: {
  bus: Bus;
  db: Db;
  schema: string;
  logger: Logger;
  relay: OutboxRelay;
  fanoutPageSize: number;
  /** This replica's connected-first write of a fan-out, which its pages let go first. */
  connectedWritten?: (sourceKey: string) => Promise<void>;
}): Promise<Subscription[]> {
  const { bus, db, schema, logger } = o;
  /** Tells every replica to push what was stored; the rows are the truth, the push a hint. */
  async function announce(
    sourceKey: string | null,
    range?: { fromUserId: string; toUserId: string | null },
  ): Promise<void> {
    if (sourceKey === null) return;
    try {
      await bus.publish('notify.notifications.stored.v1', { sourceKey, ...range });
    } catch (err) {
      logger.error({ err, sourceKey }, 'stored notifications not announced');
    }
  }

  const follows = await bus.subscribe({
    group: 'notify.follows',
    types: ['channels.follow.created.v1', 'channels.follow.deleted.v1'],
    from: 'all',
    handler: async (event) => {
      await handleOnce(db, schema, 'notify.follows', event.id, (q) =>
        event.type === 'channels.follow.created.v1'
          ? NotificationRepository.follow(q, event.data)
          : NotificationRepository.unfollow(q, event.data.channelId, event.data.userId),
      );
    },
  });

  const suspensions = await bus.subscribe({
    group: 'notify.suspensions',
    types: ['identity.user.suspended.v1', 'identity.user.unsuspended.v1'],
    from: 'all',
    handler: async (event) => {
      await handleOnce(db, schema, 'notify.suspensions', event.id, (q) =>
        NotificationRepository.suspend(
          q,
          event.data.userId,
          event.type === 'identity.user.suspended.v1',
        ),
      );
    },
  });

  const pages = await bus.subscribe({
    group: 'notify.fanout',
    types: ['notify.fanout.page.v1'],
    from: 'new',
    handler: async (event) => {
      await o.connectedWritten?.(event.data.sourceKey);
      const done = await handleOnce(db, schema, 'notify.fanout', event.id, (q) =>
        NotificationRepository.fanOutPage(q, event.data),
      );
      if (done)
        await announce(event.data.sourceKey, {
          fromUserId: event.data.fromUserId,
          toUserId: event.data.toUserId,
        });
    },
  });

  const sources = await bus.subscribe({
    group: 'notify.notifications',
    types: ['live.stream.started.v1', 'channels.role.granted.v1'],
    // A restarted notify catches up on what it missed, but a fresh one does not notify about
    // every broadcast in the retained history.
    from: 'new',
    handler: async (event) => {
      let sourceKey: string | null = null;
      let paged: FanOutPage | undefined;
      await handleOnce(db, schema, 'notify.notifications', event.id, async (q) => {
        if (event.type === 'live.stream.started.v1') {
          const r = await NotificationRepository.wentLive(
            q,
            {
              broadcastId: event.data.broadcastId,
              channelId: event.data.userId,
              channel: event.data.channel,
              title: event.data.title,
              at: event.occurredAt,
            },
            o.fanoutPageSize,
          );
          sourceKey = r.stored;
          paged = r.paged;
        } else
          sourceKey = await NotificationRepository.roleGranted(q, {
            eventId: event.id,
            userId: event.data.userId,
            channel: event.data.channel,
            role: event.data.role,
          });
      });
      if (paged) {
        // Those watching come first: every replica writes and pushes its connected followers'
        // notifications now, while the pages (queued with the gate; the relay publishes them
        // now or retries later) write everyone's. A lost hint only means waiting for the pages.
        const { sourceKey: key, channelId, channel, title } = paged;
        await bus
          .publish('notify.fanout.online.v1', { sourceKey: key, channelId, channel, title })
          .catch((err: unknown) =>
            logger.error(
              { err, sourceKey: key },
              'went-live fan-out to connected followers not announced',
            ),
          );
        o.relay.kick();
      }
      await announce(sourceKey);
    },
  });
  return [follows, suspensions, pages, sources];
}
