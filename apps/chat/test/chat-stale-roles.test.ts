import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JoinReply } from '@neon/contracts';
import { waitFor } from '@neon/testing';
import type { WebSocket } from 'ws';
import {
  closed,
  connect,
  disconnectAll,
  engineVariants,
  join,
  newUser,
  push,
  rawSocket,
  register,
  startReplica,
  type Deployment,
  type Replica,
  type TestUser,
} from './helpers.js';

// The gateway may admit a ticket minted before a demotion a moment before it
// hears of the demotion; that socket reaches chat after chat has ended the
// sockets open at the time. It must be refused then too, before it can use
// the roles it no longer holds.
for (const variant of engineVariants()) {
  describe(
    `chat sockets opened for an identity that no longer holds (${variant.name})`,
    {
      skip: variant.skip,
    },
    () => {
      let d: Deployment;
      let replica: Replica;
      const owner = newUser('owner');
      const viewer = newUser('viewer');
      const room = () => `room:${owner.username}`;

      before(async () => {
        d = await variant.open();
        replica = await startReplica(d, { CHAT_HEARTBEAT_TIMEOUT_MS: '60000' });
        await register(d, owner, viewer);
      });
      after(async () => {
        disconnectAll();
        await replica?.close();
        await d?.cleanup();
      });

      /** A message of the viewer's in the owner's room. */
      async function viewerMessage(): Promise<string> {
        const s = connect(replica, d.secret, viewer);
        const c = s.channel(room());
        assert.equal((await join(c)).status, 'ok');
        const sent = await push(c, 'shout', { body: `message ${Date.now()}` });
        assert.equal(sent.status, 'ok');
        s.disconnect();
        return sent.response.id as string;
      }

      async function roomHistory(): Promise<string[]> {
        const s = connect(replica, d.secret, null);
        const c = s.channel(room());
        const reply = await join(c);
        s.disconnect();
        return (reply.response as unknown as JoinReply).history.map((m) => m.id);
      }

      /** Sends a join then a delete at once on a raw socket, as a stale ticket's holder would. */
      function tryDelete(ws: WebSocket, messageId: string): void {
        ws.send(JSON.stringify(['1', '1', room(), 'phx_join', {}]));
        ws.send(JSON.stringify(['1', '2', room(), 'moderate', { action: 'delete', messageId }]));
      }

      test('a socket with the admin role, opened after the demotion was heard, is ended and deletes nothing', async () => {
        const erin: TestUser = { ...newUser('erin'), roles: ['user', 'admin'] };
        await register(d, erin);
        const message = await viewerMessage();

        // An admin socket open during the demotion: its end says chat has heard of it.
        const during = await rawSocket(replica, d.secret, erin);
        const duringClosed = closed(during);
        await d.bus.publish('identity.roles.changed.v1', {
          userId: erin.id,
          username: erin.username,
          roles: ['user'],
          changedAt: new Date().toISOString(),
        });
        assert.equal(await duringClosed, 4001);

        // Now a socket the gateway admitted with a ticket minted before the demotion.
        const late = await rawSocket(replica, d.secret, erin);
        const lateClosed = closed(late);
        tryDelete(late, message);
        assert.equal(await lateClosed, 4001, 'ended as a session that no longer holds');
        assert.ok((await roomHistory()).includes(message), 'the message was not deleted');

        // A socket opened with the roles held now works as a user's.
        const current = connect(replica, d.secret, { ...erin, roles: ['user'] });
        const c = current.channel(room());
        const joined = await join(c);
        assert.equal(joined.status, 'ok');
        assert.equal((joined.response as unknown as JoinReply).moderator, false);
        const refused = await push(c, 'moderate', { action: 'delete', messageId: message });
        assert.equal(refused.response.code, 'CHAT_NOT_MODERATOR');
        current.disconnect();
      });

      test('a suspended user’s socket opened after the suspension is ended; unsuspended, they chat again', async () => {
        const dave = newUser('dave');
        await register(d, dave);
        const during = await rawSocket(replica, d.secret, dave);
        const duringClosed = closed(during);
        await d.bus.publish('identity.user.suspended.v1', {
          userId: dave.id,
          username: dave.username,
          suspendedAt: new Date().toISOString(),
        });
        assert.equal(await duringClosed, 4001);

        const late = await rawSocket(replica, d.secret, dave);
        const lateClosed = closed(late);
        late.send(JSON.stringify(['1', '1', room(), 'phx_join', {}]));
        late.send(JSON.stringify(['1', '2', room(), 'shout', { body: 'still here?' }]));
        assert.equal(await lateClosed, 4001);

        await d.bus.publish('identity.user.unsuspended.v1', {
          userId: dave.id,
          username: dave.username,
        });
        await waitFor(
          async () => {
            const s = connect(replica, d.secret, dave);
            const c = s.channel(room());
            const ok =
              (await join(c)).status === 'ok' && (await push(c, 'shout', { body: 'back' }));
            s.disconnect();
            return ok && ok.status === 'ok';
          },
          { what: 'the unsuspended user to chat again' },
        );
      });
    },
  );
}
