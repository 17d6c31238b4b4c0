import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Channel } from 'phoenix';
import type { FollowersOnlyRefusal, RoomSettings } from '@neon/contracts';
import { clientHeaders, loadConfig, type Client as KitClient } from '@neon/kit';
import type { Service } from '@neon/platform';
import { waitFor } from '@neon/testing';
import { channelsService } from '../../channels/src/app.js';
import {
  collect,
  connect,
  disconnectAll,
  engineVariants,
  join,
  newUser,
  push,
  register,
  startReplica,
  type Deployment,
  type Replica,
  type Reply,
  type TestUser,
} from './helpers.js';

// Followers-only and subscribers-only modes as a viewer meets them, with
// follows and channel roles made through the channels service: chat learns
// of them only from its events.
for (const variant of engineVariants()) {
  describe(`chat follower and subscriber modes (${variant.name})`, { skip: variant.skip }, () => {
    let d: Deployment;
    let replica: Replica;
    let channels: Service;
    let closeChannelsPlatform: () => Promise<void>;
    const owner = newUser('owner');
    const viewer = newUser('viewer');
    const mod = newUser('mod');
    const vip = newUser('vip');
    const early = newUser('early');
    const room = () => `room:${owner.username}`;
    const chans = new Map<string, Channel>();

    const kit = (u: TestUser): KitClient => ({ id: u.id, username: u.username, roles: ['user'] });
    async function api(u: TestUser, method: 'PUT' | 'DELETE', url: string): Promise<void> {
      const res = await channels.server.inject({
        method,
        url,
        headers: clientHeaders(kit(u), d.secret),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    const follow = (u: TestUser, on: boolean) =>
      api(u, on ? 'PUT' : 'DELETE', `/api/v1/channels/${owner.username}/follow`);
    const role = (kind: 'moderators' | 'vips', u: TestUser, on: boolean) =>
      api(owner, on ? 'PUT' : 'DELETE', `/api/v1/me/channel/${kind}/${u.username}`);

    /** The user's one socket in the owner's room, joined once and kept. */
    async function chan(u: TestUser): Promise<Channel> {
      const known = chans.get(u.id);
      if (known) return known;
      const c = connect(replica, d.secret, u).channel(room());
      assert.equal((await join(c)).status, 'ok');
      chans.set(u.id, c);
      return c;
    }
    const shout = async (u: TestUser): Promise<Reply> =>
      push(await chan(u), 'shout', { body: `from ${u.username} ${Date.now()}` });
    const moderate = async (u: TestUser, payload: object): Promise<Reply> =>
      push(await chan(u), 'moderate', payload);
    const code = (r: Reply) => (r.status === 'ok' ? 'ok' : r.response.code);

    before(async () => {
      d = await variant.open();
      // Channels runs first: a follow made before chat ever ran must count too.
      const platform = await d.platform();
      closeChannelsPlatform = () => platform.close();
      channels = await channelsService.build(platform, loadConfig(channelsService.spec, {}));
      await channels.server.ready();
      await channels.start?.();
      for (const u of [owner, viewer, mod, vip, early])
        await d.bus.publish('identity.user.registered.v1', {
          userId: u.id,
          username: u.username,
          displayName: u.displayName,
          createdAt: new Date().toISOString(),
        });
      await waitFor(
        async () =>
          (await channels.server.inject(`/api/v1/channels/${owner.username}`)).statusCode === 200,
        { what: 'the owner channel' },
      );
      await follow(early, true);

      replica = await startReplica(d, { CHAT_RATE_LIMIT: '10000' });
      await register(d, owner, viewer, mod, vip, early);
    });
    after(async () => {
      disconnectAll();
      await replica?.close();
      await channels?.server.close();
      await channels?.close();
      await closeChannelsPlatform?.();
      await d?.cleanup();
    });

    test('followers-only refuses a non-follower with the wait, admits them once they follow, refuses them again after unfollowing', async () => {
      const seen = collect<RoomSettings>(await chan(viewer), 'settings');
      assert.equal(code(await moderate(owner, { action: 'followers_only', enabled: true })), 'ok');
      await waitFor(() => seen.some((s) => s.followersOnly && s.followersOnlyMinutes === 0), {
        what: 'the settings broadcast',
      });

      const refused = await shout(viewer);
      assert.equal(refused.status, 'error');
      const r = refused.response as unknown as FollowersOnlyRefusal;
      assert.equal(r.code, 'CHAT_FOLLOWERS_ONLY');
      assert.equal(r.following, false);
      assert.equal(r.minutes, 0);
      assert.equal(r.waitSeconds, 0);

      // Followed before chat started: the projection began at the start of the stream.
      assert.equal(code(await shout(early)), 'ok');

      await follow(viewer, true);
      await waitFor(async () => code(await shout(viewer)) === 'ok', {
        what: 'the follow to admit the viewer',
      });

      await follow(viewer, false);
      await waitFor(async () => code(await shout(viewer)) === 'CHAT_FOLLOWERS_ONLY', {
        what: 'the unfollow to refuse the viewer',
      });
    });

    test('a minimum follow age refuses a fresh follower with the seconds left; the owner, moderators and VIPs are exempt', async () => {
      assert.equal(
        code(await moderate(owner, { action: 'followers_only', enabled: true, minutes: 10 })),
        'ok',
      );
      await follow(viewer, true);
      const r = await waitFor(
        async () => {
          const reply = await shout(viewer);
          const body = reply.response as unknown as FollowersOnlyRefusal;
          return body.following ? body : undefined;
        },
        { what: 'the follow to reach chat' },
      );
      assert.equal(r.code, 'CHAT_FOLLOWERS_ONLY');
      assert.equal(r.minutes, 10);
      assert.ok(r.waitSeconds > 9 * 60 && r.waitSeconds <= 600, `waitSeconds ${r.waitSeconds}`);
      // Long-time follower? No: `early` followed moments ago too.
      assert.equal(code(await shout(early)), 'CHAT_FOLLOWERS_ONLY');

      assert.equal(code(await shout(owner)), 'ok');
      assert.equal(code(await shout(mod)), 'CHAT_FOLLOWERS_ONLY');
      await role('moderators', mod, true);
      await role('vips', vip, true);
      await waitFor(async () => code(await shout(mod)) === 'ok', { what: 'the moderator role' });
      await waitFor(async () => code(await shout(vip)) === 'ok', { what: 'the VIP role' });
      assert.equal(code(await moderate(owner, { action: 'followers_only', enabled: false })), 'ok');
      assert.equal(code(await shout(viewer)), 'ok');
    });

    test('subscribers-only admits only the owner, moderators and VIPs until subscriptions exist', async () => {
      assert.equal(
        code(await moderate(owner, { action: 'subscribers_only', enabled: true })),
        'ok',
      );
      const refused = await shout(viewer);
      assert.equal(code(refused), 'CHAT_SUBSCRIBERS_ONLY');
      assert.equal(typeof refused.response.detail, 'string');
      assert.equal(code(await shout(owner)), 'ok');
      assert.equal(code(await shout(mod)), 'ok');
      assert.equal(code(await shout(vip)), 'ok');
      assert.equal(
        code(await moderate(owner, { action: 'subscribers_only', enabled: false })),
        'ok',
      );
      assert.equal(code(await shout(viewer)), 'ok');
    });

    test('a moderator granted in channels deletes within 2 s on the socket they already had; once revoked they cannot', async () => {
      const helper = newUser('helper');
      await register(d, helper);
      const helperChan = await chan(helper);
      const target = async () => (await shout(viewer)).response.id as string;
      const first = await target();
      assert.equal(
        code(await push(helperChan, 'moderate', { action: 'delete', messageId: first })),
        'CHAT_NOT_MODERATOR',
      );

      await waitFor(
        async () =>
          (await channels.server.inject(`/api/v1/channels/${helper.username}`)).statusCode === 200,
        { what: 'the helper channel' },
      );
      await role('moderators', helper, true);
      await waitFor(
        async () =>
          code(await push(helperChan, 'moderate', { action: 'delete', messageId: first })) === 'ok',
        { timeoutMs: 2000, intervalMs: 25, what: 'the granted moderator to delete' },
      );

      const second = await target();
      await role('moderators', helper, false);
      // Probed with an id that deletes nothing: a moderator hears "no such message".
      const nowhere = randomUUID();
      await waitFor(
        async () =>
          code(await push(helperChan, 'moderate', { action: 'delete', messageId: nowhere })) ===
          'CHAT_NOT_MODERATOR',
        { timeoutMs: 2000, intervalMs: 25, what: 'the revoked moderator to be refused' },
      );
      assert.equal(
        code(await push(helperChan, 'moderate', { action: 'delete', messageId: second })),
        'CHAT_NOT_MODERATOR',
      );
    });
  });
}
