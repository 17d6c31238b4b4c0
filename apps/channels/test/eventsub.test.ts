import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventSubHeaders } from '@neon/contracts';
import { sleep, uniqueName, waitFor } from '@neon/testing';
import { eventSubApp, eventSubClient, SECRET } from './eventsub-client.js';
import { handled, variants } from './harness.js';
import { echo, expectedSignature } from './webhook-receiver.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

for (const variant of variants()) {
  describe(`EventSub webhooks (${variant.name})`, { skip: variant.skip }, () => {
    const { rx, harness } = eventSubApp(variant, {
      CHANNELS_EVENTSUB_GIVE_UP_MS: '3000',
      CHANNELS_EVENTSUB_MAX_SUBSCRIPTIONS: '5',
    });
    const {
      token,
      inject,
      problem,
      broadcaster,
      body,
      subscribe,
      subscribeFollows,
      statusOf,
      becomes,
      goLive,
    } = eventSubClient(harness, rx);

    it('verifies the callback, then sends stream.online signed, with every header', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      const path = rx.hook();
      const sub = await subscribe(app, 'stream.online', streamer, path);
      assert.deepEqual(sub.condition, { broadcasterUserId: streamer.id });
      assert.deepEqual(sub.transport, { method: 'webhook', callback: rx.url(path) });
      assert.equal(JSON.stringify(sub).includes(SECRET), false, 'the secret is never shown');
      await becomes(app, sub.id, 'enabled');

      const [challenge] = rx.at(path, 'webhook_callback_verification');
      assert.ok(challenge);
      assert.ok((challenge.json.challenge ?? '').length >= 16);
      assert.equal(challenge.json.subscription.id, sub.id);
      assert.equal(
        challenge.headers['neon-eventsub-message-signature'],
        expectedSignature(SECRET, challenge),
      );
      assert.equal(challenge.headers.cookie, undefined);
      assert.equal(challenge.headers.authorization, undefined);

      const broadcastId = await goLive(streamer);
      const note = await waitFor(() => rx.at(path, 'notification')[0], { what: 'stream.online' });
      const sent = note.headers;
      assert.match(sent['neon-eventsub-message-id'] as string, UUID);
      assert.match(sent['neon-eventsub-message-timestamp'] as string, RFC3339);
      assert.ok(
        Math.abs(Date.parse(sent['neon-eventsub-message-timestamp'] as string) - Date.now()) <
          10_000,
      );
      assert.equal(sent['neon-eventsub-message-type'], 'notification');
      assert.equal(sent['neon-eventsub-subscription-type'], 'stream.online');
      assert.equal(sent['neon-eventsub-subscription-version'], '1');
      assert.equal(sent['content-type'], 'application/json');
      assert.equal(sent['neon-eventsub-message-signature'], expectedSignature(SECRET, note));
      assert.notEqual(
        sent['neon-eventsub-message-signature'],
        expectedSignature('another-secret-entirely', note),
      );
      assert.equal(note.json.subscription.id, sub.id);
      assert.equal(note.json.subscription.status, 'enabled');
      assert.deepEqual(
        { ...note.json.event, startedAt: undefined },
        {
          id: broadcastId,
          broadcasterUserId: streamer.id,
          broadcasterUserLogin: streamer.username,
          broadcasterUserName: streamer.username,
          type: 'live',
          startedAt: undefined,
        },
      );
      // The header names are the documented ones.
      for (const name of Object.values(EventSubHeaders))
        assert.ok(sent[name.toLowerCase()], `${name} is sent`);

      // stream.offline when it ends.
      const off = rx.hook();
      const offSub = await subscribe(app, 'stream.offline', streamer, off);
      await becomes(app, offSub.id, 'enabled');
      await harness().bus.publish('live.stream.ended.v1', {
        broadcastId,
        channel: streamer.username,
        userId: streamer.id,
        startedAt: new Date().toISOString(),
        endedAt: new Date().toISOString(),
        durationSeconds: 1,
      });
      const ended = await waitFor(() => rx.at(off, 'notification')[0], { what: 'stream.offline' });
      assert.equal(ended.json.event?.broadcasterUserId, streamer.id);
    });

    it('fails verification on a wrong challenge or an error, and never notifies those', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      const wrong = rx.hook((_m, res) =>
        res.writeHead(200, { 'content-type': 'text/plain' }).end('not-it'),
      );
      const error = rx.hook((m, res) => res.writeHead(500).end(m.json.challenge));
      const padded = rx.hook((m, res) => res.writeHead(200).end(`${m.json.challenge}\n`));
      const good = rx.hook();
      const subs = [];
      for (const path of [wrong, error, padded])
        subs.push(await subscribe(app, 'stream.online', streamer, path));
      for (const s of subs) await becomes(app, s.id, 'webhook_callback_verification_failed');
      const control = await subscribe(app, 'stream.online', streamer, good);
      await becomes(app, control.id, 'enabled');
      await goLive(streamer);
      await waitFor(() => rx.at(good, 'notification').length === 1, { what: 'the control' });
      await sleep(300);
      for (const path of [wrong, error, padded]) {
        assert.equal(rx.at(path).length, 1, `${path}: the challenge only`);
        assert.equal(rx.at(path, 'notification').length, 0);
      }
    });

    it('retries a failed notification with the same id and a fresh timestamp', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      let failures = 0;
      const path = rx.hook((m, res) => {
        if (m.headers['neon-eventsub-message-type'] === 'notification' && failures < 2) {
          failures++;
          res.writeHead(500).end();
        } else echo(m, res);
      });
      const sub = await subscribe(app, 'stream.online', streamer, path);
      await becomes(app, sub.id, 'enabled');
      await goLive(streamer);
      await waitFor(() => rx.at(path, 'notification').length === 3, { what: 'three attempts' });
      await sleep(400);
      const attempts = rx.at(path, 'notification');
      assert.equal(attempts.length, 3, 'the third was taken: no more');
      const ids = new Set(attempts.map((a) => a.headers['neon-eventsub-message-id']));
      assert.equal(ids.size, 1, 'one message id');
      const times = attempts.map((a) => a.headers['neon-eventsub-message-timestamp'] as string);
      assert.equal(new Set(times).size, 3, 'a timestamp per attempt');
      assert.ok(
        Date.parse(times[0]!) < Date.parse(times[1]!) &&
          Date.parse(times[1]!) < Date.parse(times[2]!),
      );
      for (const a of attempts) {
        assert.equal(a.headers['neon-eventsub-message-signature'], expectedSignature(SECRET, a));
        assert.deepEqual(a.json.event, attempts[0]!.json.event);
      }
      assert.equal(await statusOf(app, sub.id), 'enabled');
    });

    it('revokes a callback failing past the give-up window, and tells it once it answers', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      let down = true;
      const path = rx.hook((m, res) => {
        if (down && m.headers['neon-eventsub-message-type'] !== 'webhook_callback_verification')
          res.writeHead(503).end();
        else echo(m, res);
      });
      const sub = await subscribe(app, 'stream.online', streamer, path);
      await becomes(app, sub.id, 'enabled');
      const started = Date.now();
      await goLive(streamer);
      await waitFor(
        async () => (await statusOf(app, sub.id)) === 'notification_failures_exceeded',
        {
          what: 'revoked',
          timeoutMs: 15_000,
        },
      );
      assert.ok(Date.now() - started >= 2_900, 'not before the window');
      assert.ok(rx.at(path, 'notification').length >= 4, 'retried meanwhile');
      // The revocation is tried at once, while the callback still fails, then retried.
      const failed = rx.at(path, 'revocation').length;
      down = false;
      const revocation = await waitFor(() => rx.at(path, 'revocation')[failed], {
        what: 'the revocation, answered',
      });
      assert.equal(revocation.json.subscription.status, 'notification_failures_exceeded');
      assert.equal(revocation.json.subscription.id, sub.id);
      assert.equal(revocation.headers['neon-eventsub-subscription-type'], 'stream.online');
      assert.equal(
        revocation.headers['neon-eventsub-message-signature'],
        expectedSignature(SECRET, revocation),
      );
      // No more notifications, and the revocation is not repeated once taken.
      const before = rx.at(path).length;
      await goLive(streamer);
      await sleep(600);
      assert.deepEqual(
        rx
          .at(path)
          .slice(before)
          .map((m) => m.headers['neon-eventsub-message-type']),
        [],
      );
      assert.equal(rx.at(path, 'revocation').length, failed + 1, 'taken once, not sent again');
      const ids = new Set(
        rx.at(path, 'revocation').map((m) => m.headers['neon-eventsub-message-id']),
      );
      assert.equal(ids.size, 1);
    });

    it('revokes a quiet subscription whose only message is given up, however the attempts fall', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      const path = rx.hook((m, res) => {
        if (m.headers['neon-eventsub-message-type'] === 'webhook_callback_verification')
          echo(m, res);
        else res.writeHead(503).end();
      });
      const sub = await subscribe(app, 'stream.online', streamer, path);
      await becomes(app, sub.id, 'enabled');
      await goLive(streamer);
      await waitFor(() => rx.at(path, 'notification').length >= 1, { what: 'a failed attempt' });
      // The message is past the window while the subscription's failing_since is not: no attempt
      // can land between the two, as one rarely did when they were a few ms apart.
      await harness().platform.db.query(
        `UPDATE channels.eventsub_messages
            SET created_at = now() - interval '10 seconds', first_failed_at = now() - interval '1 second'
          WHERE subscription_id = $1 AND kind = 'notification'`,
        [sub.id],
      );
      await harness().platform.db.query(
        `UPDATE channels.eventsub_subscriptions SET failing_since = now() - interval '1.5 seconds'
          WHERE id = $1`,
        [sub.id],
      );
      await waitFor(
        async () => (await statusOf(app, sub.id)) === 'notification_failures_exceeded',
        { what: 'revoked when its message is given up' },
      );
    });

    it('fails an attempt answered with a redirect, too slowly, or at too great a length', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      const target = rx.hook();
      const redirect = rx.hook((_m, res) => res.writeHead(302, { location: target }).end());
      const slow = rx.hook((m, res) => void setTimeout(() => echo(m, res), 1500));
      const huge = rx.hook((m, res) => {
        if (m.headers['neon-eventsub-message-type'] !== 'notification') return echo(m, res);
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 10; i++) res.write('x'.repeat(16 * 1024));
        res.end();
      });
      const r = await subscribe(app, 'stream.online', streamer, redirect);
      const s = await subscribe(app, 'stream.online', streamer, slow);
      const g = await subscribe(app, 'stream.online', streamer, huge);
      await becomes(app, r.id, 'webhook_callback_verification_failed');
      await becomes(app, s.id, 'webhook_callback_verification_failed');
      assert.equal(rx.at(target).length, 0, 'the redirect was not followed');
      await becomes(app, g.id, 'enabled');
      await goLive(streamer);
      // The answer over 64 KiB failed the attempt: the same message comes again.
      await waitFor(() => rx.at(huge, 'notification').length >= 2, { what: 'a retry' });
      const ids = new Set(
        rx.at(huge, 'notification').map((m) => m.headers['neon-eventsub-message-id']),
      );
      assert.equal(ids.size, 1);
    });

    it('sends channel.update for settings saved on either API and for a live retitle', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      const path = rx.hook();
      const sub = await subscribe(app, 'channel.update', streamer, path);
      await becomes(app, sub.id, 'enabled');
      const saved = await inject('PATCH', '/api/v1/me/channel', harness().as(streamer), {
        category: 'factorio',
        tags: ['Cozy'],
      });
      assert.equal(saved.statusCode, 200, saved.body);
      const first = await waitFor(() => rx.at(path, 'notification')[0], { what: 'channel.update' });
      assert.deepEqual(first.json.event, {
        broadcasterUserId: streamer.id,
        broadcasterUserLogin: streamer.username,
        broadcasterUserName: streamer.username,
        title: '',
        language: 'en',
        category: { slug: 'factorio', name: 'Factorio' },
        tags: ['cozy'],
        mature: false,
      });
      // The about text is not part of channel.update.
      await inject('PATCH', '/api/v1/me/channel', harness().as(streamer), { about: 'hi' });
      const viaApp = await inject(
        'PATCH',
        '/public/v1/channels',
        token(app, ['channel:manage:broadcast'], streamer),
        { mature: true },
      );
      assert.equal(viaApp.statusCode, 200, viaApp.body);
      await waitFor(() => rx.at(path, 'notification').length === 2, { what: 'the second' });
      assert.equal(rx.at(path, 'notification')[1]!.json.event?.mature, true);
      await harness().bus.publish('live.stream.updated.v1', {
        broadcastId: uniqueName('b'),
        channel: streamer.username,
        userId: streamer.id,
        title: 'New title',
      });
      await waitFor(() => rx.at(path, 'notification').length === 3, { what: 'the retitle' });
      assert.equal(rx.at(path, 'notification')[2]!.json.event?.title, 'New title');
      await sleep(200);
      assert.equal(rx.at(path, 'notification').length, 3, 'nothing for the about text');
    });

    it('takes channel.follow only from the broadcaster or a moderator with channel:read:followers', async () => {
      const app = uniqueName('app');
      const owner = await broadcaster();
      const mod = await broadcaster();
      const fan = await broadcaster();
      const stranger = await broadcaster();
      const post = (headers: Record<string, string>) =>
        inject(
          'POST',
          '/public/v1/eventsub/subscriptions',
          headers,
          body('channel.follow', owner.id, rx.hook()),
        );
      problem(await post(token(app, ['channel:read:followers'])), 403, 'OAUTH_USER_TOKEN_REQUIRED');
      problem(
        await post(token(app, ['channel:manage:broadcast'], owner)),
        403,
        'OAUTH_SCOPE_INSUFFICIENT',
      );
      problem(
        await post(token(app, ['channel:read:followers'], stranger)),
        404,
        'CHANNELS_CHANNEL_NOT_FOUND',
      );
      problem(
        await post(token(app, ['channel:read:followers'], mod)),
        404,
        'CHANNELS_CHANNEL_NOT_FOUND',
      );

      const ownerPath = rx.hook();
      const mine = await subscribeFollows(app, owner, ownerPath);
      assert.equal(
        (await inject('PUT', `/api/v1/me/channel/moderators/${mod.username}`, harness().as(owner)))
          .statusCode,
        200,
      );
      const modPath = rx.hook();
      const theirs = await subscribeFollows(app, owner, modPath, mod);
      await becomes(app, mine.id, 'enabled');
      await becomes(app, theirs.id, 'enabled');

      assert.equal(
        (await inject('PUT', `/api/v1/channels/${owner.username}/follow`, harness().as(fan)))
          .statusCode,
        200,
      );
      for (const path of [ownerPath, modPath]) {
        const note = await waitFor(() => rx.at(path, 'notification')[0], {
          what: 'channel.follow',
        });
        assert.equal(
          note.headers['neon-eventsub-message-signature'],
          expectedSignature(SECRET, note),
        );
        assert.deepEqual(
          { ...note.json.event, followedAt: undefined },
          {
            userId: fan.id,
            userLogin: fan.username,
            userName: fan.username,
            broadcasterUserId: owner.id,
            broadcasterUserLogin: owner.username,
            broadcasterUserName: owner.username,
            followedAt: undefined,
          },
        );
      }

      // A moderator no longer: their subscription is revoked and told so, the owner's goes on.
      assert.equal(
        (
          await inject(
            'DELETE',
            `/api/v1/me/channel/moderators/${mod.username}`,
            harness().as(owner),
          )
        ).statusCode,
        200,
      );
      assert.equal(
        (await inject('PUT', `/api/v1/channels/${owner.username}/follow`, harness().as(stranger)))
          .statusCode,
        200,
      );
      await waitFor(() => rx.at(ownerPath, 'notification').length === 2, {
        what: 'the second follow',
      });
      const revoked = await waitFor(() => rx.at(modPath, 'revocation')[0], {
        what: 'the revocation',
      });
      assert.equal(revoked.json.subscription.status, 'authorization_revoked');
      assert.equal(rx.at(modPath, 'notification').length, 1);
      assert.equal(await statusOf(app, theirs.id), 'authorization_revoked');
    });

    it('ends what an authorization made once it ends: a user disconnecting the app, or the app deleted', async () => {
      const app = uniqueName('app');
      const other = uniqueName('app');
      const owner = await broadcaster();
      const fan = await broadcaster();
      const byUser = rx.hook();
      const byApp = rx.hook();
      const byOther = rx.hook();
      const followed = await subscribeFollows(app, owner, byUser);
      const online = await subscribe(app, 'stream.online', owner, byApp);
      const elsewhere = await subscribeFollows(other, owner, byOther);
      for (const [a, sub] of [
        [app, followed],
        [app, online],
        [other, elsewhere],
      ] as const)
        await becomes(a, sub.id, 'enabled');

      // The owner disconnects the app: what their token made ends; the app's own goes on, and so
      // does what another app was given.
      await harness().bus.publish('identity.app_authorization.revoked.v1', {
        clientId: app,
        userId: owner.id,
        revokedAt: new Date().toISOString(),
      });
      const told = await waitFor(() => rx.at(byUser, 'revocation')[0], { what: 'the revocation' });
      assert.equal(told.json.subscription.status, 'authorization_revoked');
      assert.equal(
        told.headers['neon-eventsub-message-signature'],
        expectedSignature(SECRET, told),
      );
      assert.equal(await statusOf(app, followed.id), 'authorization_revoked');
      assert.equal(await statusOf(app, online.id), 'enabled');

      // Heard again (a replay, or late): nothing made since is touched.
      const again = await subscribeFollows(app, owner, rx.hook());
      await becomes(app, again.id, 'enabled');
      const late = await harness().bus.publish('identity.app_authorization.revoked.v1', {
        clientId: app,
        userId: owner.id,
        revokedAt: new Date(Date.now() - 60_000).toISOString(),
      });
      await handled(harness(), late, 'the late revocation handled');
      assert.equal(await statusOf(app, again.id), 'enabled');

      // The app is deleted: everything it made ends.
      await harness().bus.publish('identity.app_authorization.revoked.v1', {
        clientId: app,
        userId: null,
        revokedAt: new Date().toISOString(),
      });
      await becomes(app, online.id, 'authorization_revoked');
      await becomes(app, again.id, 'authorization_revoked');
      assert.equal(await statusOf(other, elsewhere.id), 'enabled');

      // A follow now reaches only the other app.
      assert.equal(
        (await inject('PUT', `/api/v1/channels/${owner.username}/follow`, harness().as(fan)))
          .statusCode,
        200,
      );
      await waitFor(() => rx.at(byOther, 'notification').length === 1, { what: 'the follow' });
      await goLive(owner);
      await sleep(500);
      assert.equal(rx.at(byUser, 'notification').length, 0);
      assert.equal(rx.at(byApp, 'notification').length, 0);
    });

    it('counts attempts and the queue in the service’s metrics', async () => {
      const text = await harness().app.server.metrics.metrics();
      assert.match(
        text,
        /channels_eventsub_deliveries_total\{[^}]*message_type="notification"[^}]*result="sent"[^}]*\} \d+/,
      );
      assert.match(text, /channels_eventsub_deliveries_total\{[^}]*result="failed"[^}]*\} \d+/);
      assert.match(text, /channels_eventsub_queue_depth\{[^}]*\} \d+/);
    });
  });
}
