import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, OAuthScope, Problem, PublicChannel, PublicStream } from '@neon/contracts';
import { appHeaders, type Client } from '@neon/kit';
import { uniqueName, waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

type Page<T> = { data: T[]; pagination: { cursor: string | null } };

for (const variant of variants()) {
  describe(`/public/v1 on channels (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let owner: Client;
    let mod: Client;
    let fan: Client;
    before(async () => {
      h = await variant.open();
      owner = await h.register(undefined, 'Owner O.');
      mod = await h.register();
      fan = await h.register();
      for (const u of [owner, mod, fan]) await channelOf(u.username);
    });
    after(() => h.close());

    /** As the gateway forwards an OAuth token: an app's own, or one acting for `user`. */
    function token(scopes: OAuthScope[] = [], user?: Client): Record<string, string> {
      return appHeaders(
        { clientId: 'app-1', scopes, ...(user ? { user } : {}) },
        h.platform.internalSecret,
      );
    }
    const call = (
      method: 'GET' | 'PATCH' | 'PUT',
      url: string,
      headers: Record<string, string>,
      payload?: object,
    ) => h.app.server.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    const channelOf = (username: string) =>
      waitFor(
        async () => {
          const res = await h.app.server.inject({ url: `/api/v1/channels/${username}` });
          return res.statusCode === 200 ? res.json<Channel>() : undefined;
        },
        { what: `channel ${username}` },
      );
    const problem = (res: { statusCode: number; json<T>(): T }, status: number, code: string) => {
      assert.equal(res.statusCode, status);
      assert.equal(res.json<Problem>().code, code);
    };
    async function goLive(user: Client, title: string, viewers: number): Promise<string> {
      const broadcastId = uniqueName('b');
      await h.bus.publish('live.stream.started.v1', {
        broadcastId,
        channel: user.username,
        userId: user.id,
        title,
        startedAt: new Date().toISOString(),
        renditions: ['720p'],
      });
      // Each event type has its own consumer on NATS: a count may not overtake the start.
      await waitFor(async () => (await channelOf(user.username)).live);
      await h.bus.publish('live.viewers.updated.v1', {
        channel: user.username,
        broadcastId,
        viewers,
      });
      await waitFor(async () => (await channelOf(user.username)).viewers === viewers);
      return broadcastId;
    }

    it('serves the OpenAPI document to anyone', async () => {
      const res = await h.app.server.inject({ url: '/public/v1/openapi.json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.paths['/channels'] && doc.paths['/streams'] && doc.paths['/users']);
    });

    it('gets channels by id and login with any token, and the token user’s own with neither', async () => {
      const res = await call(
        'GET',
        `/public/v1/channels?broadcasterId=${owner.id}&login=${fan.username.toUpperCase()}`,
        token(),
      );
      assert.equal(res.statusCode, 200, res.body);
      const data = res.json<{ data: PublicChannel[] }>().data;
      assert.deepEqual(data.map((c) => c.login).sort(), [owner.username, fan.username].sort());
      const o = data.find((c) => c.broadcasterId === owner.id)!;
      assert.equal(o.displayName, 'Owner O.');
      assert.equal(o.live, false);

      const mine = await call('GET', '/public/v1/channels', token([], fan));
      assert.deepEqual(
        mine.json<{ data: PublicChannel[] }>().data.map((c) => c.login),
        [fan.username],
      );
      problem(await call('GET', '/public/v1/channels', token()), 400, 'VALIDATION_FAILED');
      // Unknown ids are simply absent; malformed ones and too many are refused.
      const none = await call(
        'GET',
        '/public/v1/channels?broadcasterId=0190a0a0-0000-7000-8000-000000000000',
        token(),
      );
      assert.deepEqual(none.json<{ data: unknown[] }>().data, []);
      problem(
        await call('GET', '/public/v1/channels?broadcasterId=not-a-uuid', token()),
        400,
        'VALIDATION_FAILED',
      );
      const many = Array.from({ length: 101 }, (_, i) => `login=user${i}xx`).join('&');
      problem(await call('GET', `/public/v1/channels?${many}`, token()), 400, 'VALIDATION_FAILED');
      problem(
        await call('GET', '/public/v1/channels?login=a%27%20OR%201%3D1', token()),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('refuses a call that did not come through the gateway with a token', async () => {
      problem(
        await h.app.server.inject({ url: `/public/v1/channels?broadcasterId=${owner.id}` }),
        401,
        'AUTH_REQUIRED',
      );
      // A private session token's headers are not an OAuth token.
      problem(
        await call('GET', `/public/v1/channels?broadcasterId=${owner.id}`, h.as(owner)),
        401,
        'AUTH_REQUIRED',
      );
    });

    it('changes the token user’s channel with channel:manage:broadcast only', async () => {
      const body = { category: 'factorio', tags: ['Chill', 'chill', 'Speedrun'] };
      problem(
        await call('PATCH', '/public/v1/channels', token(['channel:manage:broadcast']), body),
        403,
        'OAUTH_USER_TOKEN_REQUIRED',
      );
      problem(
        await call('PATCH', '/public/v1/channels', token(['user:read:email'], owner), body),
        403,
        'OAUTH_SCOPE_INSUFFICIENT',
      );
      const res = await call(
        'PATCH',
        '/public/v1/channels',
        token(['channel:manage:broadcast'], owner),
        body,
      );
      assert.equal(res.statusCode, 200, res.body);
      const [c] = res.json<{ data: PublicChannel[] }>().data;
      assert.deepEqual(c!.category, { slug: 'factorio', name: 'Factorio' });
      assert.deepEqual(c!.tags, ['chill', 'speedrun']);
      assert.deepEqual((await channelOf(owner.username)).tags, ['chill', 'speedrun']);

      const write = token(['channel:manage:broadcast'], owner);
      problem(
        await call('PATCH', '/public/v1/channels', write, { category: 'no-such-game' }),
        400,
        'VALIDATION_FAILED',
      );
      problem(await call('PATCH', '/public/v1/channels', write, {}), 400, 'VALIDATION_FAILED');
      problem(
        await call('PATCH', '/public/v1/channels', write, { links: ['https://example.org'] }),
        400,
        'VALIDATION_FAILED',
      );
      problem(
        await call('PATCH', '/public/v1/channels', write, { tags: ['x'.repeat(26)] }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('lists followers to the owner and the channel’s moderators only', async () => {
      assert.equal(
        (await call('PUT', `/api/v1/channels/${owner.username}/follow`, h.as(fan))).statusCode,
        200,
      );
      assert.equal(
        (await call('PUT', `/api/v1/me/channel/moderators/${mod.username}`, h.as(owner)))
          .statusCode,
        200,
      );
      const url = `/public/v1/channels/followers?broadcasterId=${owner.id}`;
      for (const who of [owner, mod]) {
        const res = await call('GET', url, token(['channel:read:followers'], who));
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json<{ data: { login: string }[]; total: number }>();
        assert.deepEqual(
          page.data.map((f) => f.login),
          [fan.username],
        );
        assert.equal(page.total, 1);
      }
      // Anyone else cannot tell the channel from one that does not exist.
      problem(
        await call('GET', url, token(['channel:read:followers'], fan)),
        404,
        'CHANNELS_CHANNEL_NOT_FOUND',
      );
      problem(
        await call('GET', url, token(['channel:read:followers'])),
        403,
        'OAUTH_USER_TOKEN_REQUIRED',
      );
      problem(await call('GET', url, token([], owner)), 403, 'OAUTH_SCOPE_INSUFFICIENT');
      problem(
        await call(
          'GET',
          `${url}&after=bm90LWEtY3Vyc29y`,
          token(['channel:read:followers'], owner),
        ),
        400,
        'CHANNELS_CURSOR_INVALID',
      );
    });

    it('pages through live streams, most watched first, each once, with filters', async () => {
      const streamers: Client[] = [];
      for (let i = 0; i < 5; i++) streamers.push(await h.register());
      for (const s of streamers) await channelOf(s.username);
      const viewers = [5, 50, 5, 0, 500];
      for (const [i, s] of streamers.entries()) await goLive(s, `Show ${i}`, viewers[i]!);
      const ours = new Set(streamers.map((s) => s.username));

      const seen: PublicStream[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await call(
          'GET',
          `/public/v1/streams?first=2${cursor ? `&after=${cursor}` : ''}`,
          token(),
        );
        assert.equal(res.statusCode, 200, res.body);
        const page: Page<PublicStream> = res.json<Page<PublicStream>>();
        assert.ok(page.data.length <= 2);
        seen.push(...page.data.filter((s) => ours.has(s.login)));
        cursor = page.pagination.cursor;
        pages++;
      } while (cursor && pages < 50);
      assert.deepEqual(
        seen.map((s) => s.viewers),
        [500, 50, 5, 5, 0],
      );
      assert.equal(new Set(seen.map((s) => s.id)).size, 5);
      const top = seen[0]!;
      assert.equal(top.title, 'Show 4');
      assert.equal(top.hlsUrl, `/hls/${top.login}/master.m3u8`);

      const byLogin = await call(
        'GET',
        `/public/v1/streams?login=${streamers[1]!.username}&userId=${streamers[3]!.id}`,
        token(),
      );
      assert.deepEqual(
        byLogin
          .json<Page<PublicStream>>()
          .data.map((s) => s.login)
          .sort(),
        [streamers[1]!.username, streamers[3]!.username].sort(),
      );
      // Offline channels are not streams.
      const off = await call('GET', `/public/v1/streams?userId=${fan.id}`, token());
      assert.deepEqual(off.json<Page<PublicStream>>().data, []);

      // A retitle while live reaches the list.
      const retitled = streamers[4]!;
      await h.bus.publish('live.stream.updated.v1', {
        broadcastId: top.id,
        channel: retitled.username,
        userId: retitled.id,
        title: 'Renamed live',
      });
      await waitFor(async () => {
        const res = await call('GET', `/public/v1/streams?userId=${retitled.id}`, token());
        return res.json<Page<PublicStream>>().data[0]?.title === 'Renamed live';
      });
    });

    it('refuses forged cursors and out-of-range pages with a 400, and stays up', async () => {
      const forge = (c: object) => Buffer.from(JSON.stringify(c)).toString('base64url');
      for (const after of [
        'bm90LWEtY3Vyc29y',
        forge({ v: -1, at: '2026-01-01T00:00:00Z', id: 'x' }),
        forge({ v: 1, at: '2026-02-30T00:00:00Z', id: 'x' }),
        forge({ v: 1, at: '2026-01-01T25:00:00Z', id: 'x' }),
        forge({ v: 1, at: '2026-01-01T00:00:00+99:00', id: 'x' }),
        forge({ v: 1.5, at: '2026-01-01T00:00:00Z', id: 'x' }),
      ])
        problem(
          await call('GET', `/public/v1/streams?after=${after}`, token()),
          400,
          'CHANNELS_CURSOR_INVALID',
        );
      for (const q of ['first=0', 'first=101', 'first=abc', 'category=NOT%20A%20SLUG', 'extra=1'])
        problem(await call('GET', `/public/v1/streams?${q}`, token()), 400, 'VALIDATION_FAILED');
      assert.equal((await call('GET', '/public/v1/streams', token())).statusCode, 200);
    });
  });
}
