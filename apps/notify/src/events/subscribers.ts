import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { Db } from '@neon/db';
import type { Logger } from '@neon/kit';
import { NotificationRepository } from '../notifications/notification.repository.js';

/**
 * Notify's copies of other domains and the notifications they cause: the
 * follows (from the start of channels' stream, so follows made before this
 * service ran count), went-live fan-out and role grants. Each event is
 * handled once per group, in one transaction with its writes.
 */
export async function subscribeNotifications(
  bus: Bus,
  db: Db,
  schema: string,
  logger: Logger,
): Promise<Subscription[]> {
  /** Tells every replica to push what was stored; the rows are the truth, the push a hint. */
  async function announce(sourceKey: string | null): Promise<void> {
    if (sourceKey === null) return;
    try {
      await bus.publish('notify.notifications.stored.v1', { sourceKey });
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

  const sources = await bus.subscribe({
    group: 'notify.notifications',
    types: ['live.stream.started.v1', 'channels.role.granted.v1'],
    // A restarted notify catches up on what it missed, but a fresh one does not notify about
    // every broadcast in the retained history.
    from: 'new',
    handler: async (event) => {
      let sourceKey: string | null = null;
      await handleOnce(db, schema, 'notify.notifications', event.id, async (q) => {
        if (event.type === 'live.stream.started.v1')
          sourceKey = await NotificationRepository.wentLive(q, {
            broadcastId: event.data.broadcastId,
            channelId: event.data.userId,
            channel: event.data.channel,
            title: event.data.title,
            at: event.occurredAt,
          });
        else
          sourceKey = await NotificationRepository.roleGranted(q, {
            eventId: event.id,
            userId: event.data.userId,
            channel: event.data.channel,
            role: event.data.role,
          });
      });
      await announce(sourceKey);
    },
  });
  return [follows, sources];
}
