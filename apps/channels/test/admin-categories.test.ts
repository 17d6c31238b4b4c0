import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type {
  AdminCategory,
  ChannelRoles,
  AdminCategoryList,
  CategoryList,
  Channel,
  Problem,
  SearchResults,
} from '@neon/contracts';
import type { Client } from '@neon/kit';
import { waitFor } from '@neon/testing';
import { variants, type Harness } from './harness.js';

for (const variant of variants()) {
  describe(`admin categories on ${variant.name}`, { skip: variant.skip }, () => {
    let h: Harness;
    let owner: Client;
    const admin: Client = { id: 'admin-1', username: 'the_admin', roles: ['user', 'admin'] };

    before(async () => {
      h = await variant.open();
      owner = await h.register();
      await waitFor(
        async () =>
          (await h.app.server.inject(`/api/v1/channels/${owner.username}`)).statusCode === 200,
        { what: 'the channel' },
      );
    });
    after(() => h.close());

    const req = (
      method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
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
    const directory = async () =>
      (await req('GET', '/api/v1/categories')).json<CategoryList>().items.map((c) => c.slug);
    const search = async (q: string) =>
      (await req('GET', `/api/v1/search?q=${encodeURIComponent(q)}`)).json<SearchResults>();

    it('is for admins only', async () => {
      assert.equal((await req('GET', '/admin/v1/categories')).statusCode, 401);
      const asUser = await req('POST', '/admin/v1/categories', owner, { name: 'Nope' });
      assert.equal(asUser.statusCode, 403);
      assert.equal(asUser.json<Problem>().code, 'FORBIDDEN');
      assert.equal((await req('DELETE', '/admin/v1/categories/music', owner)).statusCode, 403);
      assert.ok(!(await directory()).includes('nope'));
    });

    it('adds, renames, retires and brings back a category; channels in it keep it; each change is audited', async () => {
      const added = await req('POST', '/admin/v1/categories', admin, { name: ' Speedrunning ' });
      assert.equal(added.statusCode, 201, added.body);
      assert.deepEqual(added.json<AdminCategory>(), {
        slug: 'speedrunning',
        name: 'Speedrunning',
        retired: false,
        channels: 0,
      });
      assert.ok((await directory()).includes('speedrunning'));
      for (const body of [{ name: 'speedrunning' }, { name: 'Other', slug: 'music' }]) {
        const dup = await req('POST', '/admin/v1/categories', admin, body);
        assert.equal(dup.statusCode, 409);
        assert.equal(dup.json<Problem>().code, 'CHANNELS_CATEGORY_EXISTS');
      }
      for (const body of [{ name: '' }, { name: 'X', slug: 'Not A Slug' }, { name: '!!!' }])
        assert.equal((await req('POST', '/admin/v1/categories', admin, body)).statusCode, 400);

      const set = await req('PATCH', '/api/v1/me/channel', owner, { category: 'speedrunning' });
      assert.equal(set.statusCode, 200, set.body);

      const renamed = await req('PATCH', '/admin/v1/categories/speedrunning', admin, {
        name: 'Trackmania Racing',
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal(renamed.json<AdminCategory>().channels, 1);
      const channel = (await req('GET', `/api/v1/channels/${owner.username}`)).json<Channel>();
      assert.deepEqual(channel.category, { slug: 'speedrunning', name: 'Trackmania Racing' });
      // The channel is found by its category's new name.
      assert.ok((await search('trackmania')).channels.some((c) => c.username === owner.username));
      const clash = await req('PATCH', '/admin/v1/categories/speedrunning', admin, {
        name: 'music',
      });
      assert.equal(clash.statusCode, 409);

      const retired = await req('DELETE', '/admin/v1/categories/speedrunning', admin);
      assert.equal(retired.statusCode, 200);
      assert.equal(retired.json<AdminCategory>().retired, true);
      assert.ok(!(await directory()).includes('speedrunning'));
      assert.deepEqual((await search('trackmania')).categories, []);
      const streams = await req('GET', '/api/v1/categories/speedrunning/streams');
      assert.equal(streams.statusCode, 404);
      assert.equal(streams.json<Problem>().code, 'CHANNELS_CATEGORY_NOT_FOUND');
      const pick = await req('PATCH', '/api/v1/me/channel', owner, { category: 'speedrunning' });
      assert.equal(pick.statusCode, 400);
      // A channel already in it keeps it.
      const still = (await req('GET', `/api/v1/channels/${owner.username}`)).json<Channel>();
      assert.equal(still.category?.slug, 'speedrunning');
      const listed = (await req('GET', '/admin/v1/categories', admin)).json<AdminCategoryList>();
      assert.equal(listed.items.find((c) => c.slug === 'speedrunning')?.retired, true);

      const back = await req('PATCH', '/admin/v1/categories/speedrunning', admin, {
        retired: false,
      });
      assert.equal(back.json<AdminCategory>().retired, false);
      assert.ok((await directory()).includes('speedrunning'));

      const audit = await h.platform.db.query<{ action: string; actor_id: string }>(
        `SELECT action, actor_id FROM channels.audit WHERE target_id = 'speedrunning' ORDER BY id`,
      );
      assert.deepEqual(
        audit.map((a) => a.action),
        ['category.added', 'category.renamed', 'category.retired', 'category.restored'],
      );
      assert.ok(audit.every((a) => a.actor_id === admin.id));
    });

    it("grants and revokes moderators and VIPs on another user's channel, audited under the admin", async () => {
      const helper = await h.register();
      await waitFor(
        async () =>
          (await h.app.server.inject(`/api/v1/channels/${helper.username}`)).statusCode === 200,
        { what: 'the helper channel' },
      );
      const url = `/admin/v1/channels/${owner.username}/moderators/${helper.username}`;
      assert.equal((await req('PUT', url, owner)).statusCode, 403);
      assert.equal((await req('PUT', url, helper)).statusCode, 403);
      const granted = await req('PUT', url, admin);
      assert.equal(granted.statusCode, 200, granted.body);
      assert.deepEqual(
        granted.json<ChannelRoles>().moderators.map((m) => m.username),
        [helper.username],
      );
      const mine = await req('GET', '/api/v1/me/channel/roles', owner);
      assert.deepEqual(
        mine.json<ChannelRoles>().moderators.map((m) => m.username),
        [helper.username],
      );
      const audit = await h.platform.db.query<{ actor_id: string; action: string }>(
        `SELECT actor_id, action FROM channels.audit WHERE channel_id = $1 AND target_id = $2`,
        [owner.id, helper.id],
      );
      assert.deepEqual(audit, [{ actor_id: admin.id, action: 'role.granted' }]);
      const vip = await req(
        'PUT',
        `/admin/v1/channels/${owner.username}/vips/${helper.username}`,
        admin,
      );
      assert.deepEqual(
        vip.json<ChannelRoles>().vips.map((m) => m.username),
        [helper.username],
      );
      const revoked = await req('DELETE', url, admin);
      assert.deepEqual(revoked.json<ChannelRoles>().moderators, []);
      const listed = await req('GET', `/admin/v1/channels/${owner.username}/roles`, admin);
      assert.deepEqual(
        listed.json<ChannelRoles>().vips.map((m) => m.username),
        [helper.username],
      );
      const unknown = await req(
        'PUT',
        `/admin/v1/channels/nosuchchannel/vips/${helper.username}`,
        admin,
      );
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json<Problem>().code, 'CHANNELS_CHANNEL_NOT_FOUND');
      const self = await req(
        'PUT',
        `/admin/v1/channels/${owner.username}/vips/${owner.username}`,
        admin,
      );
      assert.equal(self.json<Problem>().code, 'CHANNELS_ROLE_SELF');
    });

    it('answers 404 for an unknown category and 400 for an empty change', async () => {
      const unknown = await req('PATCH', '/admin/v1/categories/no-such-thing', admin, {
        name: 'Whatever',
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json<Problem>().code, 'CHANNELS_CATEGORY_NOT_FOUND');
      assert.equal(
        (await req('DELETE', '/admin/v1/categories/no-such-thing', admin)).statusCode,
        404,
      );
      assert.equal((await req('PATCH', '/admin/v1/categories/music', admin, {})).statusCode, 400);
    });
  });
}
