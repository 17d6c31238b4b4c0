import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, uniqueName, waitFor } from '@neon/testing';
import { eventSubApp, eventSubClient, SECRET } from './eventsub-client.js';
import { variants } from './harness.js';
import { echo } from './webhook-receiver.js';

// The requests an app makes to manage its subscriptions (list, delete, bad or too many), as
// eventsub.test.ts covers their delivery.

for (const variant of variants()) {
  describe(`EventSub subscription requests (${variant.name})`, { skip: variant.skip }, () => {
    const { rx, harness } = eventSubApp(variant, {
      CHANNELS_EVENTSUB_GIVE_UP_MS: '3000',
      CHANNELS_EVENTSUB_MAX_SUBSCRIPTIONS: '5',
    });
    const { token, inject, problem, broadcaster, body, subscribe, list, becomes } = eventSubClient(
      harness,
      rx,
    );
    it('lists and deletes the app’s own subscriptions only, dropping what was waiting', async () => {
      const mine = uniqueName('app');
      const theirs = uniqueName('app');
      const streamer = await broadcaster();
      const a = await subscribe(mine, 'stream.online', streamer, rx.hook());
      const b = await subscribe(mine, 'channel.update', streamer, rx.hook());
      const c = await subscribe(theirs, 'stream.online', streamer, rx.hook());
      await becomes(mine, b.id, 'enabled');

      const all = await list(mine);
      assert.deepEqual(
        all.data.map((s) => s.id),
        [a.id, b.id],
      );
      assert.equal(all.total, 2);
      assert.equal(all.maxTotal, 5);
      assert.deepEqual(
        (await list(mine, '?type=channel.update')).data.map((s) => s.id),
        [b.id],
      );
      const page1 = await list(mine, '?first=1');
      assert.deepEqual(
        page1.data.map((s) => s.id),
        [a.id],
      );
      assert.ok(page1.pagination.cursor);
      const page2 = await list(mine, `?first=1&after=${page1.pagination.cursor}`);
      assert.deepEqual(
        page2.data.map((s) => s.id),
        [b.id],
      );
      assert.equal(page2.pagination.cursor, null);
      await becomes(mine, a.id, 'enabled');
      assert.equal((await list(mine, '?status=enabled')).data.length, 2);
      assert.equal((await list(mine, '?status=authorization_revoked')).data.length, 0);
      for (const q of ['?status=on', '?type=channel.raid', '?first=0', '?first=101', '?extra=1'])
        problem(
          await inject('GET', `/public/v1/eventsub/subscriptions${q}`, token(mine)),
          400,
          'VALIDATION_FAILED',
        );
      problem(
        await inject(
          'GET',
          '/public/v1/eventsub/subscriptions?after=bm90LWEtY3Vyc29y',
          token(mine),
        ),
        400,
        'CHANNELS_CURSOR_INVALID',
      );

      // Another app's subscription is not there for it.
      problem(
        await inject('DELETE', `/public/v1/eventsub/subscriptions?id=${a.id}`, token(theirs)),
        404,
        'EVENTSUB_SUBSCRIPTION_NOT_FOUND',
      );
      assert.equal((await list(theirs)).data.length, 1);
      problem(
        await inject('DELETE', '/public/v1/eventsub/subscriptions?id=nope', token(mine)),
        400,
        'VALIDATION_FAILED',
      );
      problem(
        await inject('DELETE', '/public/v1/eventsub/subscriptions', token(mine)),
        400,
        'VALIDATION_FAILED',
      );

      // Deleting drops the messages waiting for it.
      let attempts = 0;
      const failing = rx.hook((m, res) => {
        if (m.headers['neon-eventsub-message-type'] === 'notification') {
          attempts++;
          res.writeHead(500).end();
        } else echo(m, res);
      });
      const d = await subscribe(mine, 'stream.offline', streamer, failing);
      await becomes(mine, d.id, 'enabled');
      await harness().bus.publish('live.stream.ended.v1', {
        broadcastId: uniqueName('b'),
        channel: streamer.username,
        userId: streamer.id,
        startedAt: new Date().toISOString(),
        endedAt: new Date().toISOString(),
        durationSeconds: 1,
      });
      await waitFor(() => attempts >= 1, { what: 'a failed attempt' });
      const del = await inject(
        'DELETE',
        `/public/v1/eventsub/subscriptions?id=${d.id}`,
        token(mine),
      );
      assert.equal(del.statusCode, 204, del.body);
      const waiting = await harness().platform.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM channels.eventsub_messages WHERE subscription_id = $1`,
        [d.id],
      );
      assert.equal(waiting[0]!.n, 0);
      const seen = attempts;
      await sleep(600);
      assert.ok(attempts <= seen + 1, 'at most the attempt under way when it was deleted');
      problem(
        await inject('DELETE', `/public/v1/eventsub/subscriptions?id=${d.id}`, token(mine)),
        404,
        'EVENTSUB_SUBSCRIPTION_NOT_FOUND',
      );
      assert.deepEqual(
        (await list(mine)).data.map((s) => s.id),
        [a.id, b.id],
      );
      assert.deepEqual(
        (await list(theirs)).data.map((s) => s.id),
        [c.id],
      );
    });

    it('refuses bad subscriptions with a 400 problem, duplicates and too many with a 409', async () => {
      const app = uniqueName('app');
      const streamer = await broadcaster();
      const post = (payload: object) =>
        inject('POST', '/public/v1/eventsub/subscriptions', token(app), payload);
      const withCallback = (callback: string) => ({
        ...body('stream.online', streamer.id, '/x'),
        transport: { method: 'webhook', callback, secret: SECRET },
      });
      for (const callback of [
        'https://10.0.0.1/x',
        'https://169.254.169.254/latest',
        'https://192.168.0.10/hook',
        'https://100.64.0.1/x',
        'https://[::1]/x',
        'https://[fd00::1]/x',
        'https://[::ffff:169.254.169.254]/x',
        'https://0x7f.1/x',
        'https://localhost/x',
        'https://localhost:8443/x',
        'http://10.0.0.1/x',
        'http://169.254.169.254/latest',
        'ftp://127.0.0.1/x',
        'https://user:pass@hooks.example.com/x',
        'https://@hooks.example.com/x',
        'https://hooks.example.com/x#part',
        'https://hooks.example.com:0/x',
        'https://hooks.example.com:70000/x',
        'not a url',
      ])
        problem(await post(withCallback(callback)), 400, 'EVENTSUB_CALLBACK_INVALID');

      const good = body('stream.online', streamer.id, '/x');
      for (const bad of [
        withCallback(`https://hooks.example.com/${'a'.repeat(2048)}`),
        { ...good, type: 'channel.raid' },
        { ...good, type: 'STREAM.ONLINE' },
        { ...good, version: '2' },
        { ...good, condition: { broadcasterUserId: 'not-a-uuid' } },
        { ...good, condition: { broadcasterUserId: streamer.id, moderatorUserId: streamer.id } },
        { ...good, condition: {} },
        { ...good, transport: { ...good.transport, secret: 'short' } },
        { ...good, transport: { ...good.transport, secret: 'x'.repeat(101) } },
        { ...good, transport: { ...good.transport, secret: 'ééééééééééééé' } },
        { ...good, transport: { ...good.transport, method: 'websocket' } },
        { ...good, transport: { ...good.transport, extra: true } },
        { ...good, extra: true },
        { type: 'stream.online', version: '1' },
      ])
        problem(await post(bad), 400, 'VALIDATION_FAILED');
      problem(
        await post(body('stream.online', '0190a0a0-0000-7000-8000-000000000000', '/x')),
        404,
        'CHANNELS_CHANNEL_NOT_FOUND',
      );
      problem(
        await harness().app.server.inject({
          method: 'POST',
          url: '/public/v1/eventsub/subscriptions',
          payload: good,
        }),
        401,
        'AUTH_REQUIRED',
      );
      // Nothing refused was kept.
      assert.equal((await list(app)).total, 0);

      // Once per app, type, condition and callback; another app may have the same.
      const path = rx.hook();
      await subscribe(app, 'stream.online', streamer, path);
      problem(
        await post(body('stream.online', streamer.id, path)),
        409,
        'EVENTSUB_SUBSCRIPTION_EXISTS',
      );
      await subscribe(uniqueName('app'), 'stream.online', streamer, path);
      // A cap per app (5 here).
      for (let i = 0; i < 4; i++) await subscribe(app, 'stream.online', streamer, rx.hook());
      problem(
        await post(body('stream.online', streamer.id, rx.hook())),
        409,
        'EVENTSUB_SUBSCRIPTION_LIMIT',
      );
    });
  });
}
