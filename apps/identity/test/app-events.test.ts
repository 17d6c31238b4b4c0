import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClientHeaders, type EventOf } from '@neon/contracts';
import { uniqueName, waitFor } from '@neon/testing';
import { m0012 } from '../src/db/migrations/0012_announce_oauth_clients.js';
import { collect, start, variants, type Harness } from './harness.js';
import { oauthClient } from './oauth-client.js';

/*
 * What identity tells the bus about OAuth applications themselves: channels
 * keeps who owns each client id from these (the console's webhook list).
 */
for (const variant of variants()) {
  describe(`OAuth application events (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines);
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    const { user, newApp } = oauthClient(() => h);

    test('registering an app announces its owner before answering; deleting it, its end', async () => {
      const owner = await user();
      const ownerId = owner[ClientHeaders.id]!;
      const seen = await collect(h.bus, [
        'identity.oauth_client.created.v1',
        'identity.oauth_client.deleted.v1',
        'identity.app_authorization.revoked.v1',
      ]);
      try {
        const app = await newApp(owner);
        // Published before the answer: the console may ask channels about the app at once.
        await waitFor(
          () => seen.events.some((e) => e.type === 'identity.oauth_client.created.v1'),
          {
            what: 'the creation',
            timeoutMs: 2000,
          },
        );
        const [created] = seen.events;
        assert.equal(created?.type, 'identity.oauth_client.created.v1');
        assert.deepEqual(created.data, {
          clientId: app.clientId,
          ownerId,
          createdAt: app.createdAt,
        });

        const res = await h.app.server.inject({
          method: 'DELETE',
          url: `/api/v1/oauth/apps/${app.clientId}`,
          headers: owner,
        });
        assert.equal(res.statusCode, 204, res.body);
        await waitFor(() => seen.events.length === 3, { what: 'the deletion' });
        const deleted = seen.events.find(
          (e): e is EventOf<'identity.oauth_client.deleted.v1'> =>
            e.type === 'identity.oauth_client.deleted.v1',
        );
        assert.ok(deleted);
        assert.equal(deleted.data.clientId, app.clientId);
        assert.equal(deleted.data.ownerId, ownerId);
        assert.ok(Date.parse(deleted.data.deletedAt) >= Date.parse(app.createdAt));
        // Someone else's delete is refused and announces nothing.
        const other = await newApp(owner);
        const stranger = await user();
        const refused = await h.app.server.inject({
          method: 'DELETE',
          url: `/api/v1/oauth/apps/${other.clientId}`,
          headers: stranger,
        });
        assert.equal(refused.statusCode, 404);
        await waitFor(() => seen.events.length === 4, { what: 'the second creation' });
        assert.equal(
          seen.events.filter((e) => e.type === 'identity.oauth_client.deleted.v1').length,
          1,
        );
      } finally {
        await seen.close();
      }
    });

    test('apps registered before the event existed are announced once by the migration', async () => {
      const owner = await user();
      const ownerId = owner[ClientHeaders.id]!;
      const clientId = uniqueName('old').replace(/[^A-Za-z0-9_-]/g, '');
      await h.db.query(
        `INSERT INTO identity.oauth_clients (id, owner_id, name, redirect_uris, confidential)
         VALUES ($1, $2, 'Old App', ARRAY['https://old.example/cb'], false)`,
        [clientId, ownerId],
      );
      const seen = await collect(h.bus, ['identity.oauth_client.created.v1']);
      try {
        const up = m0012.up;
        assert.equal(typeof up, 'function');
        if (typeof up === 'function') await h.db.tx((q) => up(q));
        // The outbox goes out with the next event published.
        await newApp(owner);
        await waitFor(() => seen.events.some((e) => e.data.clientId === clientId), {
          what: 'the old app announced',
        });
        const old = seen.events.find((e) => e.data.clientId === clientId);
        assert.equal(old?.data.ownerId, ownerId);
      } finally {
        await seen.close();
      }
    });
  });
}
