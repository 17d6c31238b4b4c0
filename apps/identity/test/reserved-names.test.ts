import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RegisterUsername, routeTable, type TokenResponse } from '@neon/contracts';
import Value from 'typebox/value';
import { isReservedUsername } from '../src/users/reserved-names.js';
import { newAccount, start, variants, type Harness } from './harness.js';

/** Whether a username of this spelling could be registered at all (length and characters). */
const wellFormed = (name: string) => Value.Check(RegisterUsername, name);

describe('reserved usernames', () => {
  test('staff and platform names are reserved in any case', () => {
    for (const name of [
      'admin',
      'Admin',
      'ADMINISTRATOR',
      'moderator',
      'mod',
      'system',
      'root',
      'neon',
      'staff',
      'support',
      'official',
      'help',
      'api',
      'www',
      'mail',
      'null',
      'undefined',
      'everyone',
      'here',
    ]) {
      assert.equal(isReservedUsername(name), true, name);
    }
  });

  test('look-alikes fold to the reserved name', () => {
    for (const name of [
      'Adm1n',
      'adm1n',
      '4dmin',
      's_u_p_p_o_r_t',
      'suppport',
      'r00t',
      'ro_ot',
      'N3ON',
      'ne0n',
      'st4ff',
      '5taff',
      'm0derat0r',
      'moderat0r',
      'sy5tem',
      'offic1al',
      'officia1',
      'he1p',
      'nu11',
      'admin_',
      '_admin_',
      'admin_1',
      'admin2024',
      '2staff',
      'dash_board',
    ]) {
      assert.equal(isReservedUsername(name), true, name);
    }
  });

  test('ordinary names, including ones that contain a reserved word, stay free', () => {
    for (const name of [
      'alice',
      'bob_99',
      'neonfan',
      'adminless',
      'the_moderator_fan',
      'supporter',
      'rooted',
      'modest',
      'helpful',
      'carol2',
      'streamer_01',
    ]) {
      assert.equal(isReservedUsername(name), false, name);
    }
  });

  test('every top-level route of the web app is reserved, so no channel hides a page', () => {
    const app = readFileSync(new URL('../../web/src/App.tsx', import.meta.url), 'utf8');
    const segments = [...app.matchAll(/<Route\b[^>]*?\bpath="([^"]*)"/g)]
      .map((m) => m[1]!.replace(/^\//, '').split('/')[0]!)
      .filter((s) => s !== '' && s !== '*' && !s.startsWith(':'));
    assert.ok(segments.includes('dashboard'), `read the routes: ${segments.join(', ')}`);
    for (const segment of segments) {
      // A segment too short or oddly spelled to be a username cannot collide.
      if (!wellFormed(segment)) continue;
      assert.equal(isReservedUsername(segment), true, `/${segment} of the web app`);
    }
  });

  test('every public path prefix the gateway routes is reserved', () => {
    for (const [prefix] of routeTable) {
      const segment = prefix.split('/')[1]!.replace(/^\./, '');
      assert.equal(isReservedUsername(segment), true, prefix);
    }
  });
});

for (const variant of variants()) {
  describe(`registering a reserved name (${variant.name})`, { skip: variant.skip }, () => {
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

    const register = (payload: object) =>
      h.app.server.inject({ method: 'POST', url: '/api/v1/auth/register', payload });

    test('answers 409 AUTH_USERNAME_RESERVED as problem+json and creates nothing', async () => {
      for (const username of ['admin', 'Adm1n', 's_u_p_p_o_r_t', 'dashboard', 'Neon_']) {
        const account = { ...newAccount(), username };
        const res = await register(account);
        assert.equal(res.statusCode, 409, `${username}: ${res.body}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.equal(res.json<{ code: string }>().code, 'AUTH_USERNAME_RESERVED', username);
        const login = await h.app.server.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { login: account.email, password: account.password },
        });
        assert.equal(login.statusCode, 401, `no account was created for ${username}`);
      }
    });

    test('an ordinary name next to a reserved one registers', async () => {
      const account = { ...newAccount(), username: `neonfan_${Date.now() % 100000}` };
      const res = await register(account);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json<TokenResponse>().user.username, account.username);
    });
  });
}
