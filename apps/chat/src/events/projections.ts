import { handleOnce, type Bus, type Subscription } from '@neon/bus';
import type { Db } from '@neon/db';
import type { ChatService } from '../rooms/chat.service.js';
import type { ChatRepository } from '../store/chat.repository.js';

/**
 * Chat's local copies of other domains: users (a room exists per registered
 * username; senders' display names) and channel roles (moderators, VIPs).
 * Each is a durable group, so one replica applies each event once; it then
 * tells every replica to reload the room's rules.
 */
export async function subscribeProjections(
  bus: Bus,
  db: Db,
  schema: string,
  repo: ChatRepository,
  chat: ChatService,
): Promise<Subscription[]> {
  const users = await bus.subscribe({
    group: 'chat.users',
    types: ['identity.user.registered.v1', 'identity.user.updated.v1'],
    from: 'all',
    handler: async (event) => {
      const d = event.data;
      await handleOnce(db, schema, 'chat.users', event.id, (q) =>
        repo.upsertUser(q, { id: d.userId, username: d.username, displayName: d.displayName }),
      );
      await chat.roomChanged(d.username);
    },
  });
  const roles = await bus.subscribe({
    group: 'chat.roles',
    types: ['channels.role.granted.v1', 'channels.role.revoked.v1'],
    from: 'all',
    handler: async (event) => {
      const d = event.data;
      const granted = event.type === 'channels.role.granted.v1';
      await handleOnce(db, schema, 'chat.roles', event.id, (q) =>
        repo.setRole(q, d.channel, d.userId, d.role, granted),
      );
      await chat.roomChanged(d.channel);
    },
  });
  return [users, roles];
}
