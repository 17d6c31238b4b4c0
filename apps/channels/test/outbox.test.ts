import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyEvent } from '@neon/contracts';
import type { Bus, Subscription } from '@neon/bus';
import type { Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

// A follow or a role change is answered once stored; its event must reach
// the bus even when the bus refused it at the time.
for (const variant of variants()) {
  describe(
    `channels events while the bus is down on ${variant.name}`,
    { skip: variant.skip },
    () => {
      let h: Harness;
      let down = false;
      const seen: AnyEvent[] = [];
      let tap: Subscription;
      let alice: Client;
      let bob: Client;

      before(async () => {
        h = await variant.open({
          serviceBus: (bus): Bus =>
            new Proxy(bus, {
              get(target, key, receiver) {
                if (key === 'publish')
                  return (...args: Parameters<Bus['publish']>) =>
                    down && args[0].startsWith('channels.')
                      ? Promise.reject(new Error('bus unavailable'))
                      : target.publish(...args);
                return Reflect.get(target, key, receiver) as unknown;
              },
            }),
        });
        tap = await h.bus.subscribe({
          types: ['channels.follow.created.v1', 'channels.role.granted.v1'],
          handler: async (e) => {
            seen.push(e);
          },
        });
        alice = await h.register();
        bob = await h.register();
        for (const u of [alice, bob])
          await waitFor(
            async () =>
              (await h.app.server.inject(`/api/v1/channels/${u.username}`)).statusCode === 200,
            { what: `${u.username}'s channel` },
          );
      });
      after(async () => {
        await tap.close();
        await h.close();
      });

      it('a follow and a grant made while publishing fails are published once the bus is back, each once', async () => {
        down = true;
        const follow = await h.app.server.inject({
          method: 'PUT',
          url: `/api/v1/channels/${alice.username}/follow`,
          headers: h.as(bob),
        });
        assert.equal(follow.statusCode, 200);
        const grant = await h.app.server.inject({
          method: 'PUT',
          url: `/api/v1/me/channel/moderators/${bob.username}`,
          headers: h.as(alice),
        });
        assert.equal(grant.statusCode, 200);

        down = false;
        await waitFor(() => seen.length >= 2, { what: 'the events after the outage' });
        const follows = seen.filter((e) => e.type === 'channels.follow.created.v1');
        const grants = seen.filter((e) => e.type === 'channels.role.granted.v1');
        assert.equal(follows.length, 1);
        assert.equal(grants.length, 1);
        assert.deepEqual(
          { channel: follows[0]!.data.channel, userId: follows[0]!.data.userId },
          { channel: alice.username, userId: bob.id },
        );
        assert.deepEqual(
          { channel: grants[0]!.data.channel, userId: grants[0]!.data.userId },
          { channel: alice.username, userId: bob.id },
        );
        // Their outbox rows are gone (the relay removes what it published), so
        // nothing is published twice later. Other tests may share the table.
        await waitFor(
          async () =>
            (
              await h.platform.db.query(
                `SELECT id FROM channels.outbox WHERE data->>'channel' = $1`,
                [alice.username],
              )
            ).length === 0,
          { what: 'an empty outbox for the channel' },
        );
      });
    },
  );
}
