import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CategoryList, Channel, Problem } from '@neon/contracts';
import type { Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { newUser, variants, type Harness } from './harness.js';

for (const variant of variants()) {
  describe(`channels on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let early: Client;
    let alice: Client;
    before(async () => {
      early = newUser();
      h = await variant.open({
        // A user registered before the service ever ran.
        before: async (bus) => {
          await bus.publish('identity.user.registered.v1', {
            userId: early.id,
            username: early.username,
            displayName: 'Early Bird',
            createdAt: new Date().toISOString(),
          });
        },
      });
      alice = await h.register(undefined, 'Alice A.');
      await channelOf(alice.username);
    });
    after(() => h.close());

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
    const channelOf = (username: string) =>
      waitFor(
        async () => {
          const res = await req('GET', `/api/v1/channels/${username}`);
          return res.statusCode === 200 ? res.json<Channel>() : undefined;
        },
        { what: `channel ${username}` },
      );

    describe('channels from identity', () => {
      it('gives a user registered before the first start a channel', async () => {
        const c = await channelOf(early.username);
        assert.equal(c.displayName, 'Early Bird');
      });

      it('gives every registered user a public channel with empty settings', async () => {
        const c = await channelOf(alice.username);
        assert.equal(c.username, alice.username);
        assert.equal(c.displayName, 'Alice A.');
        assert.deepEqual(
          { ...c },
          {
            username: alice.username,
            displayName: 'Alice A.',
            avatarUrl: null,
            title: '',
            category: null,
            tags: [],
            about: '',
            links: [],
            language: 'en',
            mature: false,
            followers: 0,
            live: false,
            viewers: 0,
            startedAt: null,
            following: false,
            role: null,
          },
        );
      });

      it('follows a profile change: display name and avatar', async () => {
        await h.bus.publish('identity.user.updated.v1', {
          userId: alice.id,
          username: alice.username,
          displayName: 'Alice Again',
          bio: '',
          avatarUrl: '/avatars/a.png',
        });
        const c = await waitFor(async () => {
          const got = await channelOf(alice.username);
          return got.displayName === 'Alice Again' ? got : undefined;
        });
        assert.equal(c.avatarUrl, '/avatars/a.png');
      });

      it('finds a channel whatever the case of the link', async () => {
        const res = await req('GET', `/api/v1/channels/${alice.username.toUpperCase()}`);
        assert.equal(res.statusCode, 200);
        assert.equal(res.json<Channel>().username, alice.username);
      });

      it('answers 404 with a code for an unknown channel, 400 for a name that cannot be one', async () => {
        const res = await req('GET', '/api/v1/channels/nobody_here_at_all');
        assert.equal(res.statusCode, 404);
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
        assert.equal(res.json<Problem>().code, 'CHANNELS_CHANNEL_NOT_FOUND');
        const bad = await req('GET', '/api/v1/channels/no-such!name');
        assert.equal(bad.statusCode, 400);
      });
    });

    describe('categories', () => {
      it('lists the seeded categories with live counts', async () => {
        const res = await req('GET', '/api/v1/categories');
        assert.equal(res.statusCode, 200);
        const { items } = res.json<CategoryList>();
        assert.ok(items.length >= 40, `${items.length} categories`);
        const names = items.map((c) => c.name);
        for (const n of [
          'Just Chatting',
          'Music',
          'Art',
          'Software and Game Development',
          'Science and Technology',
          'Sports',
          'Talk Shows',
          'Travel and Outdoors',
          'Retro',
          'Minecraft',
        ])
          assert.ok(names.includes(n), n);
        assert.ok(items.every((c) => c.liveChannels === 0 && c.viewers === 0));
      });
    });

    describe('the owner’s channel settings', () => {
      it('needs a signed-in user', async () => {
        for (const method of ['GET', 'PATCH'] as const) {
          const res = await req(method, '/api/v1/me/channel', undefined, {});
          assert.equal(res.statusCode, 401);
          assert.equal(res.json<Problem>().code, 'AUTH_REQUIRED');
        }
      });

      it('creates the channel of a user the bus has not announced yet on first visit', async () => {
        const late = newUser();
        const res = await req('GET', '/api/v1/me/channel', late);
        assert.equal(res.statusCode, 200);
        assert.equal(res.json<Channel>().role, 'owner');
        assert.equal((await req('GET', `/api/v1/channels/${late.username}`)).statusCode, 200);
      });

      it('changes category, tags, about, links, language and mature; the public page shows them', async () => {
        const res = await req('PATCH', '/api/v1/me/channel', alice, {
          category: 'music',
          tags: ['Synthwave', 'lo-fi', 'SYNTHWAVE', 'chill'],
          about: 'Live synths every evening. https://example.org/rig',
          links: ['https://example.org/alice', 'https://social.example/@alice'],
          language: 'pt-BR',
          mature: true,
        });
        assert.equal(res.statusCode, 200, res.body);
        const c = await channelOf(alice.username);
        assert.deepEqual(c.category, { slug: 'music', name: 'Music' });
        assert.deepEqual(c.tags, ['synthwave', 'lo-fi', 'chill']);
        assert.equal(c.about, 'Live synths every evening. https://example.org/rig');
        assert.deepEqual(c.links, ['https://example.org/alice', 'https://social.example/@alice']);
        assert.equal(c.language, 'pt-BR');
        assert.equal(c.mature, true);
        // Only the fields given change; null clears the category.
        await req('PATCH', '/api/v1/me/channel', alice, { category: null });
        const after = await channelOf(alice.username);
        assert.equal(after.category, null);
        assert.deepEqual(after.tags, ['synthwave', 'lo-fi', 'chill']);
        await req('PATCH', '/api/v1/me/channel', alice, { category: 'music' });
      });

      const refusals: [string, object, string][] = [
        ['a tag with a space', { tags: ['lo fi'] }, 'body.tags.0'],
        ['a tag with an emoji', { tags: ['ok', 'neon✨'] }, 'body.tags.1'],
        ['an empty tag', { tags: [''] }, 'body.tags.0'],
        ['11 tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'body.tags'],
        ['an about of 1,001 characters', { about: 'x'.repeat(1001) }, 'body.about'],
        ['an http link', { links: ['http://example.org'] }, 'body.links.0'],
        ['a javascript: link', { links: ['javascript:alert(1)'] }, 'body.links.0'],
        ['a link with no host', { links: ['https://'] }, 'body.links.0'],
        ['a link to a bare name', { links: ['https://localhost/x'] }, 'body.links.0'],
        [
          '6 links',
          { links: Array.from({ length: 6 }, (_, i) => `https://e${i}.example`) },
          'body.links',
        ],
        ['an unknown category', { category: 'no-such-category' }, 'body.category'],
        ['a category slug in capitals', { category: 'Music' }, 'body.category'],
        ['a language that is not a code', { language: 'english' }, 'body.language'],
        ['mature as a string', { mature: 'yes' }, 'body.mature'],
        ['an unknown field', { email: 'a@b.c' }, 'body.email'],
      ];
      for (const [what, body, field] of refusals) {
        it(`refuses ${what} with 400 naming ${field}, changing nothing`, async () => {
          const before = await channelOf(alice.username);
          const res = await req('PATCH', '/api/v1/me/channel', alice, body);
          assert.equal(res.statusCode, 400, res.body);
          const p = res.json<Problem>();
          assert.equal(p.code, 'VALIDATION_FAILED');
          assert.ok(
            p.errors?.some((e) => e.field === field),
            `${JSON.stringify(p.errors)} names ${field}`,
          );
          assert.deepEqual(await channelOf(alice.username), before);
        });
      }

      it('never shows an email or other private data', async () => {
        const res = await req('GET', `/api/v1/channels/${alice.username}`);
        assert.ok(!/email|password|@example\.com/i.test(res.body));
      });
    });
  });
}
