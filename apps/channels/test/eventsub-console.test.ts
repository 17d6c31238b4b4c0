import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ConsoleEventSubList,
  ConsoleEventSubSubscription,
  EventSubStatus,
  EventSubSubscription,
  Problem,
} from '@neon/contracts';
import type { Client } from '@neon/kit';
import { uniqueName, waitFor } from '@neon/testing';
import { eventSubApp, eventSubClient } from './eventsub-client.js';
import { assertProblem, handled, newUser, variants, type Harness } from './harness.js';

/*
 * The developer console's view of an app's webhooks
 * (`/api/v1/eventsub/apps/:clientId/subscriptions`): its owner, signed in to
 * Neon, lists and deletes them; channels knows the owner from identity's
 * identity.oauth_client.created.v1 / deleted.v1, published here on the bus as
 * identity would.
 */
for (const variant of variants()) {
  describe(`EventSub in the developer console (${variant.name})`, { skip: variant.skip }, () => {
    const { rx, harness } = eventSubApp(variant);

    type Reply = Awaited<ReturnType<Harness['app']['server']['inject']>>;
    const path = (clientId: string, id?: string) =>
      `/api/v1/eventsub/apps/${encodeURIComponent(clientId)}/subscriptions${id ? `/${id}` : ''}`;
    const get = (clientId: string, who: Client, query = '') =>
      harness().app.server.inject({ url: `${path(clientId)}${query}`, headers: harness().as(who) });
    const del = (clientId: string, id: string, who: Client) =>
      harness().app.server.inject({
        method: 'DELETE',
        url: path(clientId, id),
        headers: harness().as(who),
      });
    const problem = (res: Reply, status: number, code: string) => assertProblem(res, status, code);
    async function list(clientId: string, owner: Client, query = ''): Promise<ConsoleEventSubList> {
      const res = await get(clientId, owner, query);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ConsoleEventSubList>();
    }
    const find = async (clientId: string, owner: Client, id: string) =>
      (await list(clientId, owner)).items.find((s) => s.id === id);

    /** An app `owner` registered, as identity announces it; resolves once channels knows it. */
    async function register(owner: Client): Promise<string> {
      const clientId = uniqueName('app');
      await harness().bus.publish('identity.oauth_client.created.v1', {
        clientId,
        ownerId: owner.id,
        createdAt: new Date().toISOString(),
      });
      await waitFor(async () => (await get(clientId, owner)).statusCode === 200, {
        what: `${clientId} known to channels`,
      });
      return clientId;
    }
    const app = eventSubClient(harness, rx);
    const broadcaster = app.broadcaster;
    /** Subscribes with the app's own token, as a third-party app does on /public/v1. */
    async function subscribe(
      clientId: string,
      streamer: Client,
      hook: string,
    ): Promise<EventSubSubscription> {
      const res = await app.inject(
        'POST',
        '/public/v1/eventsub/subscriptions',
        app.token(clientId),
        app.body('stream.online', streamer.id, hook),
      );
      assert.equal(res.statusCode, 202, res.body);
      return res.json<{ data: EventSubSubscription[] }>().data[0]!;
    }
    const becomes = (clientId: string, owner: Client, id: string, status: EventSubStatus) =>
      waitFor(
        async () => {
          const s = await find(clientId, owner, id);
          return s?.status === status ? s : undefined;
        },
        { what: `${id} ${status}` },
      );

    it('shows the owner each subscription, its status as it changes, and how delivery goes', async () => {
      const owner = newUser();
      const streamer = await broadcaster();
      const clientId = await register(owner);
      assert.deepEqual(await list(clientId, owner), {
        items: [],
        total: 0,
        maxTotal: 1000,
        nextCursor: null,
      });

      const good = rx.hook();
      const refused = rx.hook((_m, res) => res.writeHead(404).end());
      let failing = false;
      const flaky = rx.hook((m, res) => {
        if (m.headers['neon-eventsub-message-type'] === 'webhook_callback_verification')
          res.writeHead(200, { 'content-type': 'text/plain' }).end(m.json.challenge);
        else res.writeHead(failing ? 503 : 204).end();
      });
      const a = await subscribe(clientId, streamer, good);
      const shown = await find(clientId, owner, a.id);
      assert.ok(shown);
      assert.equal(shown.type, 'stream.online');
      assert.equal(shown.version, '1');
      assert.deepEqual(shown.condition, { broadcasterUserId: streamer.id });
      assert.deepEqual(shown.transport, { method: 'webhook', callback: rx.url(good) });
      assert.equal(shown.createdAt, a.createdAt);
      assert.ok(
        ['webhook_callback_verification_pending', 'enabled'].includes(shown.status),
        shown.status,
      );
      assert.equal(JSON.stringify(shown).includes('a-secret-of-some-length'), false);
      const enabled = await becomes(clientId, owner, a.id, 'enabled');
      assert.deepEqual(enabled.delivery, {
        failingSince: null,
        lastFailureAt: null,
        lastFailure: null,
        waiting: 0,
      });

      // A callback that does not echo the challenge: the reason is kept for the owner.
      const b = await subscribe(clientId, streamer, refused);
      const failed = await becomes(clientId, owner, b.id, 'webhook_callback_verification_failed');
      assert.equal(failed.delivery.lastFailure, 'answered 404');
      assert.ok(failed.delivery.lastFailureAt);

      // Notifications that fail: failing since, the last failure, and what waits.
      const c = await subscribe(clientId, streamer, flaky);
      await becomes(clientId, owner, c.id, 'enabled');
      failing = true;
      await harness().bus.publish('live.stream.started.v1', {
        broadcastId: uniqueName('b'),
        channel: streamer.username,
        userId: streamer.id,
        title: 'Hello',
        startedAt: new Date().toISOString(),
        renditions: ['720p'],
      });
      const failingSub = await waitFor(
        async () => {
          const s = await find(clientId, owner, c.id);
          return s?.delivery.failingSince ? s : undefined;
        },
        { what: 'the failing notification shown' },
      );
      assert.equal(failingSub.status, 'enabled');
      assert.equal(failingSub.delivery.lastFailure, 'answered 503');
      assert.equal(failingSub.delivery.waiting, 1);
      // Once the callback answers again, nothing waits and it is failing no more.
      failing = false;
      const healed: ConsoleEventSubSubscription = await waitFor(
        async () => {
          const s = await find(clientId, owner, c.id);
          return s && s.delivery.waiting === 0 && !s.delivery.failingSince ? s : undefined;
        },
        { what: 'the notification taken' },
      );
      assert.equal(healed.delivery.lastFailure, 'answered 503', 'the last failure is kept');

      const all = await list(clientId, owner);
      assert.deepEqual(
        all.items.map((s) => s.id),
        [a.id, b.id, c.id],
        'oldest first',
      );
      assert.equal(all.total, 3);
      assert.equal((await get(clientId, owner)).headers['cache-control'], 'no-store');

      // Pages.
      const first = await list(clientId, owner, '?limit=2');
      assert.deepEqual(
        first.items.map((s) => s.id),
        [a.id, b.id],
      );
      assert.ok(first.nextCursor);
      const second = await list(
        clientId,
        owner,
        `?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`,
      );
      assert.deepEqual(
        second.items.map((s) => s.id),
        [c.id],
      );
      assert.equal(second.nextCursor, null);
    });

    it('answers anyone but the owner 404, whatever the app holds, and touches nothing', async () => {
      const owner = newUser();
      const stranger = newUser();
      const streamer = await broadcaster();
      const clientId = await register(owner);
      const sub = await subscribe(clientId, streamer, rx.hook());
      problem(await get(clientId, stranger), 404, 'OAUTH_APP_NOT_FOUND');
      problem(await del(clientId, sub.id, stranger), 404, 'OAUTH_APP_NOT_FOUND');
      // The same as an app nobody registered: nothing tells the two apart.
      const unknown = await get(uniqueName('app'), stranger);
      problem(unknown, 404, 'OAUTH_APP_NOT_FOUND');
      assert.equal(
        (await get(clientId, stranger)).json<Problem>().detail,
        unknown.json<Problem>().detail,
      );
      assert.ok(await find(clientId, owner, sub.id), 'still there');

      // Signed out, or with an app's token: not this API.
      problem(await harness().app.server.inject({ url: path(clientId) }), 401, 'AUTH_REQUIRED');
      const withAppToken = await harness().app.server.inject({
        url: path(clientId),
        headers: app.token(clientId, [], owner),
      });
      assert.ok([401, 403].includes(withAppToken.statusCode), withAppToken.body);
    });

    it('deletes a subscription for the owner, as the app could', async () => {
      const owner = newUser();
      const streamer = await broadcaster();
      const clientId = await register(owner);
      const hook = rx.hook();
      const keep = await subscribe(clientId, streamer, rx.hook());
      const gone = await subscribe(clientId, streamer, hook);
      const res = await del(clientId, gone.id, owner);
      assert.equal(res.statusCode, 204, res.body);
      const left = await list(clientId, owner);
      assert.deepEqual(
        left.items.map((s) => s.id),
        [keep.id],
      );
      assert.equal(left.total, 1);
      // The app's own list agrees.
      const theirs = await harness().app.server.inject({
        url: '/public/v1/eventsub/subscriptions',
        headers: app.token(clientId),
      });
      assert.deepEqual(
        theirs.json<{ data: EventSubSubscription[] }>().data.map((s) => s.id),
        [keep.id],
      );
      problem(await del(clientId, gone.id, owner), 404, 'EVENTSUB_SUBSCRIPTION_NOT_FOUND');
    });

    it('deletes subscriptions while their callbacks are being verified, every one answered', async () => {
      // The worker settles a verification (message, then subscription) while the owner's delete
      // removes the subscription and, with it, the message: both must finish, in either order.
      const owner = newUser();
      const streamer = await broadcaster();
      const clientId = await register(owner);
      for (let round = 0; round < 10; round += 1) {
        const subs = await Promise.all(
          Array.from({ length: 8 }, () => subscribe(clientId, streamer, rx.hook())),
        );
        const answers = await Promise.all(
          subs.map(async (s, i) => {
            await new Promise((r) => setTimeout(r, i * 3));
            return del(clientId, s.id, owner);
          }),
        );
        for (const res of answers) assert.equal(res.statusCode, 204, res.body);
      }
      assert.equal((await list(clientId, owner)).total, 0);
    });

    it('refuses bad input with a problem', async () => {
      const owner = newUser();
      const streamer = await broadcaster();
      const clientId = await register(owner);
      const otherApp = await register(owner);
      const sub = await subscribe(clientId, streamer, rx.hook());
      const theirs = await subscribe(otherApp, streamer, rx.hook());

      for (const bad of ['not a client id', 'x'.repeat(65), 'app.1', 'äpp'])
        problem(await get(bad, owner), 400, 'VALIDATION_FAILED');
      problem(await del('app/x', sub.id, owner), 400, 'VALIDATION_FAILED');
      problem(await del(clientId, 'not-a-uuid', owner), 400, 'VALIDATION_FAILED');
      problem(
        await del(clientId, '00000000-0000-4000-8000-000000000000', owner),
        404,
        'EVENTSUB_SUBSCRIPTION_NOT_FOUND',
      );
      // A subscription of another of the owner's apps is not this app's.
      problem(await del(clientId, theirs.id, owner), 404, 'EVENTSUB_SUBSCRIPTION_NOT_FOUND');
      assert.ok(await find(otherApp, owner, theirs.id), 'still there');

      for (const query of ['?limit=0', '?limit=101', '?limit=x', '?first=2', '?status=enabled'])
        problem(await get(clientId, owner, query), 400, 'VALIDATION_FAILED');
      for (const cursor of ['nonsense', Buffer.from('{"at":"x","id":"y"}').toString('base64url')])
        problem(await get(clientId, owner, `?cursor=${cursor}`), 400, 'CHANNELS_CURSOR_INVALID');
    });

    it('follows the apps identity announces: created, then deleted for good', async () => {
      const owner = newUser();
      const streamer = await broadcaster();
      const clientId = await register(owner);
      const sub = await subscribe(clientId, streamer, rx.hook());
      await becomes(clientId, owner, sub.id, 'enabled');

      // Identity deletes the app: its webhooks end (the authorization event), and the console
      // knows the app no more.
      const deletedAt = new Date().toISOString();
      await harness().bus.publish('identity.oauth_client.deleted.v1', {
        clientId,
        ownerId: owner.id,
        deletedAt,
      });
      await harness().bus.publish('identity.app_authorization.revoked.v1', {
        clientId,
        userId: null,
        revokedAt: deletedAt,
      });
      await waitFor(async () => (await get(clientId, owner)).statusCode === 404, {
        what: 'the deleted app unknown',
      });
      problem(await get(clientId, owner), 404, 'OAUTH_APP_NOT_FOUND');
      problem(await del(clientId, sub.id, owner), 404, 'OAUTH_APP_NOT_FOUND');
      await waitFor(
        async () =>
          (
            await harness().platform.db.query<{ status: string }>(
              `SELECT status FROM channels.eventsub_subscriptions WHERE id = $1`,
              [sub.id],
            )
          )[0]?.status === 'authorization_revoked',
        { what: 'the subscription revoked' },
      );

      // Its creation heard again (a replay) does not bring it back.
      const replay = await harness().bus.publish('identity.oauth_client.created.v1', {
        clientId,
        ownerId: owner.id,
        createdAt: new Date().toISOString(),
      });
      await handled(harness(), replay, 'the replayed creation handled');
      problem(await get(clientId, owner), 404, 'OAUTH_APP_NOT_FOUND');

      // A deletion heard before the creation: the app is never shown.
      const early = uniqueName('app');
      await harness().bus.publish('identity.oauth_client.deleted.v1', {
        clientId: early,
        ownerId: owner.id,
        deletedAt: new Date().toISOString(),
      });
      const late = await harness().bus.publish('identity.oauth_client.created.v1', {
        clientId: early,
        ownerId: owner.id,
        createdAt: new Date().toISOString(),
      });
      await handled(harness(), late, 'the late creation handled');
      problem(await get(early, owner), 404, 'OAUTH_APP_NOT_FOUND');
    });
  });
}
