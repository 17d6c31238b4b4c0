import { handleOnce, type Bus, type Subscription } from '@neon/bus';
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
