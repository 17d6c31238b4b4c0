import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type {
  AnyEvent,
  Channel,
  ChannelRoles,
  DirectoryStreams,
  FollowList,
  FollowState,
  FollowerList,
  Problem,
  SearchResults,
} from '@neon/contracts';
import type { Client } from '@neon/kit';
import type { Subscription } from '@neon/bus';
import { uniqueName, waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

for (const variant of variants()) {
  describe(`follows, roles and search on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let alice: Client;
    let bob: Client;
    let carol: Client;
    const seen: AnyEvent[] = [];
    let tap: Subscription;
    before(async () => {
      h = await variant.open({ env: { CHANNELS_FOLLOW_LIMIT: '30' } });
      tap = await h.bus.subscribe({
        types: [
          'channels.follow.created.v1',
          'channels.follow.deleted.v1',
          'channels.role.granted.v1',
          'channels.role.revoked.v1',
        ],
        handler: async (e) => {
          seen.push(e);
        },
      });
      alice = await h.register();
      bob = await h.register();
      carol = await h.register();
      for (const u of [alice, bob, carol]) await channelOf(u.username);
    });
    after(async () => {
      await tap.close();
      await h.close();
    });

    const req = (
      method: 'GET' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      client?: Client,
      payload?: object,
    ) =>
      h.app.server.inject({
        method,
        url,
        headers: client ? h.as(client) : {},
        ...(payload ? { payload } : {}),
      });
    const channelOf = (username: string, client?: Client) =>
      waitFor(
        async () => {
          const res = await req('GET', `/api/v1/channels/${username}`, client);
          return res.statusCode === 200 ? res.json<Channel>() : undefined;
        },
        { what: `channel ${username}` },
      );
    const eventsOf = (type: AnyEvent['type'], channel: string) =>
      seen.filter((e) => e.type === type && (e.data as { channel?: string }).channel === channel);

    describe('follows', () => {
      it('follows once however often asked, shows it to the follower and counts it', async () => {
        for (let i = 0; i < 2; i++) {
          const res = await req('PUT', `/api/v1/channels/${alice.username}/follow`, bob);
          assert.equal(res.statusCode, 200, res.body);
          assert.deepEqual(res.json<FollowState>(), { following: true, followers: 1 });
        }
        const mine = await channelOf(alice.username, bob);
        assert.equal(mine.following, true);
        assert.equal(mine.followers, 1);
        assert.equal((await channelOf(alice.username, carol)).following, false);
        assert.equal((await channelOf(alice.username)).following, false);
        const created = await waitFor(() => {
          const got = eventsOf('channels.follow.created.v1', alice.username);
          return got.length > 0 ? got : undefined;
        });
        // A later follow's event arrives after any duplicate of the first would have.
        await req('PUT', `/api/v1/channels/${bob.username}/follow`, carol);
        await waitFor(() => eventsOf('channels.follow.created.v1', bob.username).length > 0);
        assert.equal(eventsOf('channels.follow.created.v1', alice.username).length, 1);
        assert.deepEqual(
          { ...created[0]!.data, followedAt: 'x' },
          {
            channel: alice.username,
            channelId: alice.id,
            userId: bob.id,
            username: bob.username,
            followedAt: 'x',
          },
        );
      });

      it('unfollows once however often asked', async () => {
        await req('PUT', `/api/v1/channels/${carol.username}/follow`, bob);
        for (let i = 0; i < 2; i++) {
          const res = await req('DELETE', `/api/v1/channels/${carol.username}/follow`, bob);
          assert.equal(res.statusCode, 200);
          assert.deepEqual(res.json<FollowState>(), { following: false, followers: 0 });
        }
        await waitFor(() => eventsOf('channels.follow.deleted.v1', carol.username).length === 1);
        assert.equal((await channelOf(carol.username, bob)).following, false);
      });

      it('refuses following yourself, anonymous callers and unknown channels', async () => {
        const self = await req('PUT', `/api/v1/channels/${alice.username}/follow`, alice);
        assert.equal(self.statusCode, 400);
        assert.equal(self.json<Problem>().code, 'CHANNELS_FOLLOW_SELF');
        const anon = await req('PUT', `/api/v1/channels/${alice.username}/follow`);
        assert.equal(anon.statusCode, 401);
        const unknown = await req('PUT', '/api/v1/channels/nobody_at_all_here/follow', bob);
        assert.equal(unknown.statusCode, 404);
        assert.equal(unknown.json<Problem>().code, 'CHANNELS_CHANNEL_NOT_FOUND');
      });

      it('answers 429 with Retry-After past 30 follows and unfollows a minute', async () => {
        const bot = await h.register();
        await channelOf(bot.username);
        for (let i = 0; i < 30; i++) {
          const res = await req(
            i % 2 === 0 ? 'PUT' : 'DELETE',
            `/api/v1/channels/${carol.username}/follow`,
            bot,
          );
          assert.equal(res.statusCode, 200, `request ${i + 1}`);
        }
        const res = await req('PUT', `/api/v1/channels/${carol.username}/follow`, bot);
        assert.equal(res.statusCode, 429);
        assert.equal(res.json<Problem>().code, 'RATE_LIMITED');
        const wait = Number(res.headers['retry-after']);
        assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
        // Another user's budget is their own.
        const other = await req('PUT', `/api/v1/channels/${carol.username}/follow`, alice);
        assert.equal(other.statusCode, 200);
        await req('DELETE', `/api/v1/channels/${carol.username}/follow`, alice);
      });

      it('lists what I follow, live channels first, page by page', async () => {
        const fan = await h.register();
        const followed: Client[] = [];
        for (let i = 0; i < 5; i++) {
          const c = await h.register();
          await channelOf(c.username);
          followed.push(c);
          assert.equal(
            (await req('PUT', `/api/v1/channels/${c.username}/follow`, fan)).statusCode,
            200,
          );
        }
        const liveOne = followed[1]!;
        await h.bus.publish('live.stream.started.v1', {
          broadcastId: uniqueName('b'),
          channel: liveOne.username,
          userId: liveOne.id,
          title: 'Late night coding',
          startedAt: new Date().toISOString(),
          renditions: ['720p'],
        });
        await waitFor(async () => (await channelOf(liveOne.username)).live);
        const names: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const url: string = `/api/v1/me/follows?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
          const res = await req('GET', url, fan);
          assert.equal(res.statusCode, 200, res.body);
          const page = res.json<FollowList>();
          assert.ok(page.items.length <= 2);
          if (pages === 0) {
            assert.equal(page.items[0]!.username, liveOne.username);
            assert.equal(page.items[0]!.live, true);
            assert.equal(page.items[0]!.title, 'Late night coding');
            assert.equal(page.items[0]!.thumbnailUrl, `/thumbnails/${liveOne.username}.jpg`);
          }
          names.push(...page.items.map((i) => i.username));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        assert.equal(pages, 3);
        // Live first, then the most recently followed.
        const offline = followed.filter((c) => c !== liveOne).reverse();
        assert.deepEqual(names, [liveOne.username, ...offline.map((c) => c.username)]);
        const bad = await req('GET', '/api/v1/me/follows?cursor=bm90LWEtY3Vyc29y', fan);
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json<Problem>().code, 'CHANNELS_CURSOR_INVALID');
        assert.equal((await req('GET', '/api/v1/me/follows')).statusCode, 401);
      });

      it('pages through several live channels one at a time before the offline ones', async () => {
        const fan = await h.register();
        const followed: Client[] = [];
        for (let i = 0; i < 4; i++) {
          const c = await h.register();
          await channelOf(c.username);
          followed.push(c);
          await req('PUT', `/api/v1/channels/${c.username}/follow`, fan);
        }
        for (const c of [followed[0]!, followed[2]!]) {
          await h.bus.publish('live.stream.started.v1', {
            broadcastId: uniqueName('b'),
            channel: c.username,
            userId: c.id,
            title: 'On air',
            startedAt: new Date().toISOString(),
            renditions: ['720p'],
          });
          await waitFor(async () => (await channelOf(c.username)).live);
        }
        const names: string[] = [];
        let cursor: string | null = null;
        do {
          const url: string = `/api/v1/me/follows?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
          const page = (await req('GET', url, fan)).json<FollowList>();
          names.push(...page.items.map((i) => i.username));
          cursor = page.nextCursor;
        } while (cursor);
        // Live ones newest followed first, then the others the same way; none twice, none lost.
        assert.deepEqual(
          names,
          [followed[2]!, followed[0]!, followed[3]!, followed[1]!].map((c) => c.username),
        );
      });

      it('shows the follower list to the owner only; others see the count', async () => {
        const star = await h.register();
        await channelOf(star.username);
        const fans: Client[] = [];
        for (let i = 0; i < 3; i++) {
          const f = await h.register();
          await channelOf(f.username);
          await req('PUT', `/api/v1/channels/${star.username}/follow`, f);
          fans.push(f);
        }
        for (const viewer of [undefined, fans[0]]) {
          const res = await req('GET', `/api/v1/channels/${star.username}/followers`, viewer);
          assert.equal(res.statusCode, 200);
          assert.deepEqual(res.json<FollowerList>(), { count: 3, items: null, nextCursor: null });
        }
        const first = (
          await req('GET', `/api/v1/channels/${star.username}/followers?limit=2`, star)
        ).json<FollowerList>();
        assert.equal(first.count, 3);
        assert.deepEqual(
          first.items!.map((f) => f.username),
          [fans[2]!.username, fans[1]!.username],
        );
        const second = (
          await req(
            'GET',
            `/api/v1/channels/${star.username}/followers?limit=2&cursor=${first.nextCursor}`,
            star,
          )
        ).json<FollowerList>();
        assert.deepEqual(
          second.items!.map((f) => f.username),
          [fans[0]!.username],
        );
        assert.equal(second.nextCursor, null);
      });
    });

    describe('roles', () => {
      it('makes a user a moderator once, tells chat, and shows the role on the channel page', async () => {
        for (let i = 0; i < 2; i++) {
          const res = await req('PUT', `/api/v1/me/channel/moderators/${bob.username}`, alice);
          assert.equal(res.statusCode, 200, res.body);
          const roles = res.json<ChannelRoles>();
          assert.deepEqual(
            roles.moderators.map((m) => [m.userId, m.username]),
            [[bob.id, bob.username]],
          );
          assert.deepEqual(roles.vips, []);
        }
        assert.equal((await channelOf(alice.username, bob)).role, 'moderator');
        assert.equal((await channelOf(alice.username, alice)).role, 'owner');
        assert.equal((await channelOf(alice.username, carol)).role, null);
        // A grant on another channel arrives after any duplicate of the first would have.
        await req('PUT', `/api/v1/me/channel/vips/${alice.username}`, carol);
        await waitFor(() => eventsOf('channels.role.granted.v1', carol.username).length > 0);
        const granted = eventsOf('channels.role.granted.v1', alice.username);
        assert.equal(granted.length, 1);
        assert.deepEqual(granted[0]!.data, {
          channel: alice.username,
          userId: bob.id,
          username: bob.username,
          role: 'moderator',
        });
        const audit = await h.platform.db.query<{ action: string }>(
          `SELECT action FROM channels.audit WHERE channel_id = $1 AND target_id = $2`,
          [alice.id, bob.id],
        );
        assert.deepEqual(
          audit.map((a) => a.action),
          ['role.granted'],
        );
      });

      it('makes a VIP, lists both, and revokes', async () => {
        const res = await req('PUT', `/api/v1/me/channel/vips/${carol.username}`, alice);
        assert.equal(res.statusCode, 200);
        assert.equal((await channelOf(alice.username, carol)).role, 'vip');
        const roles = (await req('GET', '/api/v1/me/channel/roles', alice)).json<ChannelRoles>();
        assert.deepEqual(
          roles.moderators.map((m) => m.username),
          [bob.username],
        );
        assert.deepEqual(
          roles.vips.map((m) => m.username),
          [carol.username],
        );
        const gone = await req('DELETE', `/api/v1/me/channel/moderators/${bob.username}`, alice);
        assert.equal(gone.statusCode, 200);
        assert.deepEqual(gone.json<ChannelRoles>().moderators, []);
        assert.equal((await channelOf(alice.username, bob)).role, null);
        const revoked = await waitFor(() => {
          const got = eventsOf('channels.role.revoked.v1', alice.username);
          return got.length > 0 ? got : undefined;
        });
        assert.deepEqual(revoked[0]!.data, {
          channel: alice.username,
          userId: bob.id,
          username: bob.username,
          role: 'moderator',
        });
        // Bob's own channel has no roles from Alice's.
        const bobs = (await req('GET', '/api/v1/me/channel/roles', bob)).json<ChannelRoles>();
        assert.deepEqual(bobs, { moderators: [], vips: [] });
      });

      it('refuses unknown users, the owner themself, unknown kinds and anonymous callers', async () => {
        const unknown = await req('PUT', '/api/v1/me/channel/moderators/nobody_at_all_x', alice);
        assert.equal(unknown.statusCode, 404);
        assert.equal(unknown.json<Problem>().code, 'CHANNELS_USER_NOT_FOUND');
        const self = await req('PUT', `/api/v1/me/channel/moderators/${alice.username}`, alice);
        assert.equal(self.statusCode, 400);
        assert.equal(self.json<Problem>().code, 'CHANNELS_ROLE_SELF');
        const kind = await req('PUT', `/api/v1/me/channel/admins/${bob.username}`, alice);
        assert.equal(kind.statusCode, 400);
        const anon = await req('PUT', `/api/v1/me/channel/moderators/${bob.username}`);
        assert.equal(anon.statusCode, 401);
        assert.equal((await req('GET', '/api/v1/me/channel/roles')).statusCode, 401);
      });
    });

    describe('search and directory', () => {
      let synth: Client;
      let synthOff: Client;
      before(async () => {
        synth = await h.register(
          `modularsynth${Date.now().toString(36).slice(-5)}`,
          'Modular Synth',
        );
        synthOff = await h.register(`modularsynthoff${Date.now().toString(36).slice(-4)}`);
        await channelOf(synth.username);
        await channelOf(synthOff.username);
        await req('PATCH', '/api/v1/me/channel', synth, { category: 'music', tags: ['eurorack'] });
        await h.bus.publish('live.stream.started.v1', {
          broadcastId: uniqueName('b'),
          channel: synth.username,
          userId: synth.id,
          title: 'Patching all night',
          startedAt: new Date().toISOString(),
          renditions: ['720p'],
        });
        await waitFor(async () => (await channelOf(synth.username)).live);
      });
      const search = async (q: string) => {
        const res = await req('GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
        assert.equal(res.statusCode, 200, res.body);
        return res.json<SearchResults>();
      };

      it('finds a channel by a misspelled part of its name, live first', async () => {
        const found = await search('modulr');
        const names = found.channels.map((c) => c.username);
        assert.ok(names.includes(synthOff.username), names.join());
        assert.equal(names[0], synth.username);
      });

      it('finds by title, tag and a prefix; a category by a typo', async () => {
        assert.equal((await search('patching')).channels[0]?.username, synth.username);
        assert.equal((await search('EURORACK')).channels[0]?.username, synth.username);
        assert.ok((await search('modul')).channels.some((c) => c.username === synth.username));
        const cats = (await search('musik')).categories;
        assert.equal(cats[0]?.slug, 'music');
        assert.equal(cats[0]?.liveChannels, 1);
      });

      it('puts the channel a misspelled name meant before a live channel that barely matches', async () => {
        const suffix = Date.now().toString(36).slice(-5);
        const meant = await h.register(`glassharmonica${suffix}`);
        const loose = await h.register(`glassharp${suffix}`);
        await channelOf(meant.username);
        await channelOf(loose.username);
        await h.bus.publish('live.stream.started.v1', {
          broadcastId: uniqueName('b'),
          channel: loose.username,
          userId: loose.id,
          title: 'Harp covers',
          startedAt: new Date().toISOString(),
          renditions: ['720p'],
        });
        await waitFor(async () => (await channelOf(loose.username)).live);
        const names = (await search(`glasharmonica${suffix}`)).channels.map((c) => c.username);
        assert.equal(names[0], meant.username, names.join());
        // A prefix of the username comes first too, live or not.
        const byPrefix = (await search(`glassharm`)).channels.map((c) => c.username);
        assert.equal(byPrefix[0], meant.username, byPrefix.join());
      });

      it('treats LIKE wildcards as text and refuses an empty or overlong query', async () => {
        assert.deepEqual((await search('%%%')).channels, []);
        assert.deepEqual((await search('___')).channels, []);
        assert.equal((await req('GET', '/api/v1/search?q=')).statusCode, 400);
        assert.equal((await req('GET', `/api/v1/search?q=${'a'.repeat(101)}`)).statusCode, 400);
      });

      it('lists the live channels of a category, and counts them', async () => {
        const res = await req('GET', '/api/v1/categories/music/streams');
        assert.equal(res.statusCode, 200);
        const body = res.json<DirectoryStreams>();
        assert.deepEqual(body.category, { slug: 'music', name: 'Music' });
        assert.deepEqual(
          body.items.map((c) => c.username),
          [synth.username],
        );
        const none = await req('GET', '/api/v1/categories/no-such-thing/streams');
        assert.equal(none.statusCode, 404);
        assert.equal(none.json<Problem>().code, 'CHANNELS_CATEGORY_NOT_FOUND');
        const music = (await req('GET', '/api/v1/categories'))
          .json<{ items: { slug: string; liveChannels: number }[] }>()
          .items.find((c) => c.slug === 'music');
        assert.equal(music?.liveChannels, 1);
      });

      it('moves a live channel to the category its owner picks while live', async () => {
        const live = async (slug: string) =>
          (await req('GET', '/api/v1/categories'))
            .json<{ items: { slug: string; liveChannels: number }[] }>()
            .items.find((c) => c.slug === slug)?.liveChannels;
        await req('PATCH', '/api/v1/me/channel', synth, { category: 'art' });
        assert.equal(await live('art'), 1);
        assert.equal(await live('music'), 0);
        assert.equal(
          (await search('art')).categories.find((c) => c.slug === 'art')?.liveChannels,
          1,
        );
        await req('PATCH', '/api/v1/me/channel', synth, { category: 'music' });
        assert.equal(await live('music'), 1);
      });

      it('drops a channel from the directory when its broadcast ends', async () => {
        const c = await channelOf(synth.username);
        const rows = await h.platform.db.query<{ broadcast_id: string }>(
          `SELECT broadcast_id FROM channels.live WHERE user_id = $1`,
          [synth.id],
        );
        await h.bus.publish('live.stream.ended.v1', {
          broadcastId: rows[0]!.broadcast_id,
          channel: synth.username,
          userId: synth.id,
          startedAt: c.startedAt!,
          endedAt: new Date().toISOString(),
          durationSeconds: 1,
        });
        await waitFor(async () => !(await channelOf(synth.username)).live);
        const body = (
          await req('GET', '/api/v1/categories/music/streams')
        ).json<DirectoryStreams>();
        assert.deepEqual(body.items, []);
      });
    });
  });
}
