import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  AdminUser,
  AdminUserList,
  AuditList,
  Me,
  PublicProfile,
  TokenResponse,
} from '@neon/contracts';
import { loadConfig, createLogger } from '@neon/kit';
import { platformSpec } from '@neon/platform';
import { waitFor } from '@neon/testing';
import { adminCommands } from '../src/app.js';
import { collect, config, newAccount, start, variants, type Harness } from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };

for (const variant of variants()) {
  describe(`identity profiles and admin (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;
    let admin: TokenResponse['user'];

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines);
      // The first admin comes from the command line's entry point, on the same database.
      const commands = await adminCommands(
        h.db,
        createLogger({ level: 'silent', pretty: false, name: 'cli' }),
        config(),
        loadConfig(platformSpec, {}).PUBLIC_URL,
      );
      const account = newAccount('root');
      await commands.createAdmin(account);
      admin = (
        await post('/api/v1/auth/login', { login: account.username, password: account.password })
      ).json<TokenResponse>().user;
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
      h.app.server.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
    const as = (u: TokenResponse['user']) =>
      h.as({ id: u.id, username: u.username, roles: u.roles });
    const asAdmin = () => as(admin);

    async function register(prefix = 'p') {
      const account = newAccount(prefix);
      const res = await post('/api/v1/auth/register', account, BODY);
      assert.equal(res.statusCode, 201, res.body);
      return { account, session: res.json<TokenResponse>() };
    }

    test('the command-line admin has the admin role and an audit entry', async () => {
      assert.deepEqual(admin.roles, ['user', 'admin']);
      const audit = await h.app.server.inject({
        method: 'GET',
        url: '/admin/v1/audit',
        headers: asAdmin(),
      });
      assert.equal(audit.statusCode, 200);
      const entry = audit.json<AuditList>().items.find((e) => e.targetId === admin.id);
      assert.equal(entry?.action, 'admin.created');
      assert.equal(entry?.actorId, null);
    });

    test('public profile: never the email; unknown user is USER_NOT_FOUND', async () => {
      const { session } = await register();
      const res = await h.app.server.inject({
        method: 'GET',
        url: `/api/v1/users/${session.user.username.toUpperCase()}`,
      });
      assert.equal(res.statusCode, 200);
      const profile = res.json<PublicProfile>();
      assert.equal(profile.username, session.user.username);
      assert.equal((profile as Record<string, unknown>).email, undefined);
      assert.ok(!res.body.includes('@example.test'));
      const missing = await h.app.server.inject({
        method: 'GET',
        url: '/api/v1/users/nobody_at_all',
      });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().code, 'USER_NOT_FOUND');
    });

    test('PATCH /me updates the profile and publishes identity.user.updated.v1', async () => {
      const { session } = await register();
      const events = await collect(h.bus, ['identity.user.updated.v1']);
      const res = await h.app.server.inject({
        method: 'PATCH',
        url: '/api/v1/me',
        headers: as(session.user),
        payload: {
          displayName: 'Night Owl',
          bio: 'streams at 2am',
          avatarUrl: 'https://img.example/a.png',
        },
      });
      assert.equal(res.statusCode, 200, res.body);
      const me = res.json<Me>();
      assert.equal(me.displayName, 'Night Owl');
      assert.equal(me.avatarUrl, 'https://img.example/a.png');
      const cleared = await h.app.server.inject({
        method: 'PATCH',
        url: '/api/v1/me',
        headers: as(session.user),
        payload: { avatarUrl: null },
      });
      assert.equal(cleared.json<Me>().avatarUrl, null);
      assert.equal(cleared.json<Me>().bio, 'streams at 2am', 'untouched fields stay');
      const seen = await waitFor(
        () => {
          const mine = events.events.filter((e) => e.data.userId === session.user.id);
          return mine.length >= 2 ? mine : undefined;
        },
        { what: 'two updated events' },
      );
      assert.equal(seen[0]!.data.displayName, 'Night Owl');
      assert.equal(seen[1]!.data.avatarUrl, null);
      await events.close();
    });

    test('PATCH /me validation and authorisation', async () => {
      const { session } = await register();
      const cases: [string, unknown][] = [
        ['display name too long', { displayName: 'x'.repeat(41) }],
        ['empty display name', { displayName: '' }],
        ['blank display name', { displayName: '   ' }],
        ['bio too long', { bio: 'x'.repeat(301) }],
        ['javascript avatar', { avatarUrl: 'javascript:alert(1)' }],
        ['ftp avatar', { avatarUrl: 'ftp://x/y.png' }],
        ['bio not a string', { bio: 5 }],
        ['username is immutable', { username: 'renamed' }],
        ['email not editable here', { email: 'x@example.test' }],
      ];
      for (const [what, payload] of cases) {
        const res = await h.app.server.inject({
          method: 'PATCH',
          url: '/api/v1/me',
          headers: as(session.user),
          payload: payload as object,
        });
        assert.equal(res.statusCode, 400, what);
        assert.equal(res.json().code, 'VALIDATION_FAILED', what);
      }
      const anon = await h.app.server.inject({
        method: 'PATCH',
        url: '/api/v1/me',
        payload: { bio: 'x' },
      });
      assert.equal(anon.statusCode, 401);
      assert.equal(anon.json().code, 'AUTH_REQUIRED');
      const anonMe = await h.app.server.inject({ method: 'GET', url: '/api/v1/me' });
      assert.equal(anonMe.json().code, 'AUTH_REQUIRED');
    });

    test('admin routes refuse anonymous callers and non-admins', async () => {
      const { session } = await register();
      const routes: [string, string][] = [
        ['GET', '/admin/v1/users'],
        ['GET', '/admin/v1/audit'],
        ['PUT', `/admin/v1/users/${session.user.id}/admin`],
        ['DELETE', `/admin/v1/users/${admin.id}/admin`],
        ['PUT', `/admin/v1/users/${admin.id}/suspension`],
        ['DELETE', `/admin/v1/users/${session.user.id}/suspension`],
      ];
      for (const [method, url] of routes) {
        const anon = await h.app.server.inject({ method: method as 'GET', url });
        assert.equal(anon.statusCode, 401, `${method} ${url}`);
        assert.equal(anon.json().code, 'AUTH_REQUIRED');
        const user = await h.app.server.inject({
          method: method as 'GET',
          url,
          headers: as(session.user),
        });
        assert.equal(user.statusCode, 403, `${method} ${url}`);
        assert.equal(user.json().code, 'FORBIDDEN');
      }
      const stillUser = await h.app.server.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: as(session.user),
      });
      assert.deepEqual(stillUser.json<Me>().roles, ['user']);
    });

    test('admin validation: bad ids, bad queries, unknown users, self actions', async () => {
      const bad = await h.app.server.inject({
        method: 'PUT',
        url: '/admin/v1/users/not-a-uuid/admin',
        headers: asAdmin(),
      });
      assert.equal(bad.json().code, 'VALIDATION_FAILED');
      for (const qs of ['limit=0', 'limit=1000', 'limit=abc', 'cursor=zzz', 'unknown=1']) {
        const res = await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/users?${qs}`,
          headers: asAdmin(),
        });
        assert.equal(res.statusCode, 400, qs);
        assert.equal(res.json().code, 'VALIDATION_FAILED', qs);
      }
      const ghost = '01890000-0000-7000-8000-000000000000';
      const unknown = await h.app.server.inject({
        method: 'PUT',
        url: `/admin/v1/users/${ghost}/admin`,
        headers: asAdmin(),
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().code, 'USER_NOT_FOUND');
      const selfRevoke = await h.app.server.inject({
        method: 'DELETE',
        url: `/admin/v1/users/${admin.id}/admin`,
        headers: asAdmin(),
      });
      assert.equal(selfRevoke.json().code, 'ADMIN_SELF_ACTION');
      const selfSuspend = await h.app.server.inject({
        method: 'PUT',
        url: `/admin/v1/users/${admin.id}/suspension`,
        headers: asAdmin(),
      });
      assert.equal(selfSuspend.json().code, 'ADMIN_SELF_ACTION');
      const longReason = await h.app.server.inject({
        method: 'PUT',
        url: `/admin/v1/users/${admin.id}/suspension`,
        headers: asAdmin(),
        payload: { reason: 'x'.repeat(501) },
      });
      assert.equal(longReason.json().code, 'VALIDATION_FAILED');
    });

    test('list, search and page through users', async () => {
      const tag = `srch${Date.now().toString(36)}`;
      const made = [];
      for (let i = 0; i < 3; i++) made.push((await register(`${tag}_`)).session.user);
      const search = await h.app.server.inject({
        method: 'GET',
        url: `/admin/v1/users?q=${tag.toUpperCase()}&limit=2`,
        headers: asAdmin(),
      });
      assert.equal(search.statusCode, 200, search.body);
      const page1 = search.json<AdminUserList>();
      assert.equal(page1.items.length, 2);
      assert.ok(page1.nextCursor);
      assert.deepEqual(
        page1.items.map((u) => u.id),
        [made[2]!.id, made[1]!.id],
        'newest first',
      );
      assert.equal(page1.items[0]!.suspended, false);
      assert.ok(page1.items[0]!.email.includes('@'));
      const page2 = (
        await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/users?q=${tag}&limit=2&cursor=${page1.nextCursor}`,
          headers: asAdmin(),
        })
      ).json<AdminUserList>();
      assert.deepEqual(
        page2.items.map((u) => u.id),
        [made[0]!.id],
      );
      assert.equal(page2.nextCursor, null);
      const byEmail = (
        await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/users?q=${encodeURIComponent(made[0]!.email)}`,
          headers: asAdmin(),
        })
      ).json<AdminUserList>();
      assert.deepEqual(
        byEmail.items.map((u) => u.id),
        [made[0]!.id],
      );
      const wildcard = (
        await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/users?q=%25`,
          headers: asAdmin(),
        })
      ).json<AdminUserList>();
      assert.equal(wildcard.items.length, 0, 'a % in the search is literal');
      const empty = await h.app.server.inject({
        method: 'GET',
        url: '/admin/v1/users?q=',
        headers: asAdmin(),
      });
      assert.equal(empty.statusCode, 200);
      assert.ok(
        empty.json<AdminUserList>().items.some((u) => u.id === admin.id),
        'an empty search lists everyone',
      );
    });

    test('grant and revoke admin, with audit entries and a roles event for each', async () => {
      const { session } = await register();
      const events = await collect(h.bus, ['identity.roles.changed.v1']);
      const grant = await h.app.server.inject({
        method: 'PUT',
        url: `/admin/v1/users/${session.user.id}/admin`,
        headers: asAdmin(),
      });
      assert.equal(grant.statusCode, 200, grant.body);
      assert.deepEqual(grant.json<AdminUser>().roles, ['user', 'admin']);
      const login = await post('/api/v1/auth/login', {
        login: session.user.username,
        password: 'wrong',
      });
      assert.equal(login.statusCode, 401);
      const revoke = await h.app.server.inject({
        method: 'DELETE',
        url: `/admin/v1/users/${session.user.id}/admin`,
        headers: asAdmin(),
      });
      assert.deepEqual(revoke.json<AdminUser>().roles, ['user']);
      const audit = (
        await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/audit?targetId=${session.user.id}`,
          headers: asAdmin(),
        })
      ).json<AuditList>();
      assert.deepEqual(
        audit.items.map((e) => e.action),
        ['admin.revoked', 'admin.granted'],
      );
      assert.equal(audit.items[0]!.actorId, admin.id);
      assert.equal(audit.items[0]!.actorUsername, admin.username);
      assert.equal(audit.items[0]!.targetUsername, session.user.username);
      // The gateway and chat hear each change: a token or socket with the old roles is stale.
      await waitFor(() => events.events.length >= 2, { what: 'roles events' });
      await events.close();
      assert.deepEqual(
        events.events.map((e) => [e.data.userId, (e.data as { roles: string[] }).roles]),
        [
          [session.user.id, ['user', 'admin']],
          [session.user.id, ['user']],
        ],
      );
    });

    test('a suspended user cannot log in or refresh; unsuspended, they can log in again', async () => {
      const { account, session } = await register();
      const events = await collect(h.bus, [
        'identity.user.suspended.v1',
        'identity.user.unsuspended.v1',
      ]);
      const suspend = await h.app.server.inject({
        method: 'PUT',
        url: `/admin/v1/users/${session.user.id}/suspension`,
        headers: asAdmin(),
        payload: { reason: 'spam' },
      });
      assert.equal(suspend.statusCode, 200, suspend.body);
      assert.equal(suspend.json<AdminUser>().suspended, true);
      assert.equal(suspend.json<AdminUser>().suspendedReason, 'spam');

      const login = await post('/api/v1/auth/login', {
        login: account.username,
        password: account.password,
      });
      assert.equal(login.statusCode, 403);
      assert.equal(login.json().code, 'AUTH_ACCOUNT_SUSPENDED');
      const refresh = await post(
        '/api/v1/auth/refresh',
        { refreshToken: session.refreshToken },
        BODY,
      );
      assert.equal(refresh.statusCode, 403);
      assert.equal(refresh.json().code, 'AUTH_ACCOUNT_SUSPENDED');
      // A wrong password still says nothing about the suspension.
      const wrong = await post('/api/v1/auth/login', {
        login: account.username,
        password: 'not-it-at-all',
      });
      assert.equal(wrong.json().code, 'AUTH_INVALID_CREDENTIALS');

      const lift = await h.app.server.inject({
        method: 'DELETE',
        url: `/admin/v1/users/${session.user.id}/suspension`,
        headers: asAdmin(),
      });
      assert.equal(lift.json<AdminUser>().suspended, false);
      // The gateway hears both (it refuses the access tokens issued before the suspension).
      await waitFor(() => events.events.length >= 2, { what: 'suspension events' });
      await events.close();
      assert.deepEqual(
        events.events.map((e) => [e.type, e.data.userId]),
        [
          ['identity.user.suspended.v1', session.user.id],
          ['identity.user.unsuspended.v1', session.user.id],
        ],
      );
      const suspended = events.events[0]!.data as { suspendedAt?: string };
      assert.ok(Date.parse(suspended.suspendedAt ?? '') <= Date.now());
      const again = await post(
        '/api/v1/auth/refresh',
        { refreshToken: session.refreshToken },
        BODY,
      );
      assert.equal(
        again.json().code,
        'AUTH_REFRESH_INVALID',
        'suspension revoked the old sessions for good',
      );
      const relogin = await post('/api/v1/auth/login', {
        login: account.username,
        password: account.password,
      });
      assert.equal(relogin.statusCode, 200);

      const audit = (
        await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/audit?targetId=${session.user.id}`,
          headers: asAdmin(),
        })
      ).json<AuditList>();
      assert.deepEqual(
        audit.items.map((e) => e.action),
        ['user.unsuspended', 'user.suspended'],
      );
      assert.equal(audit.items[1]!.detail.reason, 'spam');
      assert.equal(audit.items[1]!.detail.sessionsRevoked, 1);
    });

    test('command line grant is audited and idempotent', async () => {
      const { session } = await register();
      const commands = await adminCommands(
        h.db,
        createLogger({ level: 'silent', pretty: false, name: 'cli' }),
        config(),
        'http://x',
      );
      assert.equal((await commands.grantAdmin(session.user.username.toUpperCase())).changed, true);
      assert.equal((await commands.grantAdmin(session.user.username)).changed, false);
      await assert.rejects(commands.grantAdmin('no_such_user_here'));
      const me = await h.app.server.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: as(session.user),
      });
      assert.deepEqual(me.json<Me>().roles, ['user', 'admin']);
      const audit = (
        await h.app.server.inject({
          method: 'GET',
          url: `/admin/v1/audit?targetId=${session.user.id}`,
          headers: asAdmin(),
        })
      ).json<AuditList>();
      assert.deepEqual(
        audit.items.map((e) => [e.action, e.actorId]),
        [['admin.granted', null]],
      );
    });
  });
}
