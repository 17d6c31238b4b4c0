import type { Bus, Subscription } from '@neon/bus';
import type { Logger } from '@neon/kit';
import type { SocketServer } from '../socket/socket-server.js';

/**
 * A suspension ends the user's sockets; a change of platform roles ends the
 * ones opened with other roles (an admin who is one no longer must not keep
 * moderating every room); an ended session (logout, password change) ends the
 * sockets opened with its tickets. A broadcast: every replica ends its own sockets.
 */
export function subscribeSessionEnds(
  bus: Bus,
  sockets: SocketServer,
  logger: Logger,
): Promise<Subscription> {
  return bus.subscribe({
    types: [
      'identity.user.suspended.v1',
      'identity.user.unsuspended.v1',
      'identity.roles.changed.v1',
      'identity.session.revoked.v1',
    ],
    handler: async (event) => {
      if (event.type === 'identity.user.unsuspended.v1') {
        sockets.currentRoles.unsuspended(event.data.userId);
        return;
      }
      if (event.type === 'identity.user.suspended.v1')
        sockets.currentRoles.suspended(event.data.userId);
      else if (event.type === 'identity.roles.changed.v1')
        sockets.currentRoles.changed(event.data.userId, event.data.roles);
      const ended =
        event.type === 'identity.user.suspended.v1'
          ? sockets.endSessions(event.data.userId)
          : event.type === 'identity.session.revoked.v1'
            ? sockets.endSessionIds(event.data.sessionIds)
            : sockets.endSessions(event.data.userId, (roles) => sameRoles(roles, event.data.roles));
      if (ended > 0)
        logger.info(
          { userId: event.data.userId, sockets: ended, event: event.type },
          'sockets ended',
        );
    },
  });
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r) => b.includes(r));
}
