import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { EventOf } from '@neon/contracts';
import type { Db } from '@neon/db';
import { ChannelRepository } from '../stream-keys/channel.repository.js';

/** Keeps `live.users` (id, username) from identity's events, so channel pages can tell "offline" from "no such channel". */
export async function subscribeUsers(bus: Bus, db: Db, schema: string): Promise<Subscription> {
  return bus.subscribe({
    group: 'live.users',
    types: ['identity.user.registered.v1', 'identity.user.updated.v1'],
    from: 'all',
    handler: async (event) => {
      await handleOnce(db, schema, 'live.users', event.id, (q) =>
        ChannelRepository.upsertUser(q, event.data.userId, event.data.username),
      );
    },
  });
}

const STANDING = ['identity.user.suspended.v1', 'identity.user.unsuspended.v1'] as const;
type StandingEvent =
  EventOf<'identity.user.suspended.v1'> | EventOf<'identity.user.unsuspended.v1'>;

function storeStanding(db: Db, event: StandingEvent): Promise<void> {
  const { userId, username } = event.data;
  const suspendedAt = event.type === 'identity.user.suspended.v1' ? event.data.suspendedAt : null;
  return ChannelRepository.setStanding(db, userId, username, suspendedAt, event.occurredAt);
}

/**
 * A suspended account may not broadcast. Each suspension reaches live twice:
 * through a group, so it is stored even when no replica ran as it happened,
 * and on every replica, which stores it too (so the encoder it cuts off cannot
 * publish again before the group's copy lands) and then ends the account's
 * broadcast if it holds it. Its recording is kept. A lifted suspension lets
 * the key publish again.
 */
export async function subscribeStanding(
  bus: Bus,
  db: Db,
  endSuspended: (channel: string) => Promise<void>,
): Promise<Subscription[]> {
  const stored = await bus.subscribe({
    group: 'live.standing',
    types: STANDING,
    from: 'all',
    handler: (event) => storeStanding(db, event),
  });
  const here = await bus.subscribe({
    types: STANDING,
    handler: async (event) => {
      await storeStanding(db, event);
      // A late copy of a suspension since lifted is stored as nothing and ends nothing.
      if (
        event.type === 'identity.user.suspended.v1' &&
        (await ChannelRepository.isSuspended(db, event.data.userId))
      )
        await endSuspended(event.data.username);
    },
  });
  return [stored, here];
}
