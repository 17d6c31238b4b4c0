import assert from 'node:assert/strict';
import { KeyObject, randomUUID, sign as rsaSign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import {
  PUBLIC_URL,
  makeKeys,
  problem,
  startGateway,
  startUpstream,
  variants,
  type GatewayHandle,
  type Keys,
  type Upstream,
} from './harness.js';

// Tokens signed with the real key that still break a rule: a valid signature
// must not carry a malformed or incomplete token through. The other bad-token
// cases (algorithm, key, signature, times, audience) are in gateway.test.ts.
const b64url = (text: string) => Buffer.from(text).toString('base64url');

for (const variant of variants) {
  describe(`token shape at the gateway with ${variant.name}`, { skip: variant.skip }, () => {
    let keys: Keys;
    let identity: Upstream;
    let gw: GatewayHandle;
    let published: JWK[];
    before(async () => {
      keys = await makeKeys();
      published = [keys.publicJwk];
      identity = await startUpstream('identity', () => published);
      gw = await startGateway(
        { IDENTITY_URL: identity.url },
        {
          redisUrl: variant.redisUrl,
          natsUrl: variant.natsUrl,
        },
      );
    });
    after(async () => {
      await gw.close();
      await identity.close();
    });

    const now = () => Math.floor(Date.now() / 1000);
    const claims = (extra: Record<string, unknown> = {}) => ({
      iss: PUBLIC_URL,
      aud: 'neon-api',
      sub: '0190f000-0000-7000-8000-000000000001',
      username: 'alice',
      roles: ['user'],
      iat: now(),
      exp: now() + 600,
      jti: randomUUID(),
      ...extra,
    });
    /** Signs any payload text under any protected header with the published key (RS256, by hand: jose refuses some of these). */
    const sign = async (payload: string, header: Record<string, unknown> = {}) => {
      const input = `${b64url(JSON.stringify({ alg: 'RS256', kid: keys.kid, typ: 'JWT', ...header }))}.${b64url(payload)}`;
      const key = KeyObject.from(keys.privateKey);
      return `${input}.${rsaSign('sha256', Buffer.from(input), key).toString('base64url')}`;
    };
    const signed = (c: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      sign(JSON.stringify(c), header);
    const without = (name: string) => {
      const c: Record<string, unknown> = claims();
      delete c[name];
      return c;
    };

    async function answer(token: string): Promise<{ status: number; code?: string }> {
      const res = await fetch(`${gw.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status === 200) {
        await res.arrayBuffer();
        return { status: 200 };
      }
      return { status: res.status, code: (await problem(res)).code };
    }

    test('a well-formed token passes, also with nbf now or within the leeway', async () => {
      assert.deepEqual(await answer(await signed(claims())), { status: 200 });
      assert.deepEqual(await answer(await signed(claims({ nbf: now() }))), { status: 200 });
      assert.deepEqual(await answer(await signed(claims({ nbf: now() + 30 }))), { status: 200 });
    });

    test('signed with the real key yet malformed or incomplete: 401, never forwarded', async () => {
      const good = await signed(claims());
      const [h, p, s] = good.split('.') as [string, string, string];
      const cases: [string, string][] = [
        ['not valid before an hour from now', await signed(claims({ nbf: now() + 3600 }))],
        ['nbf not a number', await signed(claims({ nbf: 'now' }))],
        ['no exp', await signed(without('exp'))],
        ['no iat', await signed(without('iat'))],
        ['exp a string', await signed(claims({ exp: String(now() + 600) }))],
        ['no sub', await signed(without('sub'))],
        ['empty sub', await signed(claims({ sub: '' }))],
        ['no username', await signed(without('username'))],
        ['roles not a list', await signed(claims({ roles: 'admin' }))],
        ['a critical header extension', await signed(claims(), { crit: ['exp'], exp: 1 })],
        ['no kid', await signed(claims(), { kid: undefined })],
        ['payload is a JSON array', await sign(JSON.stringify([claims()]))],
        ['payload is JSON null', await sign('null')],
        ['payload is a JSON number', await sign('42')],
        ['payload is not JSON', await sign('{"sub":')],
        ['four segments', `${good}.${s}`],
        ['two segments', `${h}.${p}`],
        ['an empty header', `.${p}.${s}`],
        ['a header with a character outside base64url', `${h}=.${p}.${s}`],
        ['a payload with a character outside base64url', `${h}.${p}*.${s}`],
        ['a leading dot', `.${good}`],
        ['an empty signature', `${h}.${p}.`],
        ['a signature one character longer', `${h}.${p}.${s}A`],
      ];
      const before = identity.seen.length;
      for (const [name, token] of cases) {
        assert.deepEqual(await answer(token), { status: 401, code: 'AUTH_TOKEN_INVALID' }, name);
      }
      assert.equal(identity.seen.length, before, 'no such token reached the upstream');
      // The good one still passes afterwards: nothing above poisoned a cache.
      assert.deepEqual(await answer(good), { status: 200 });
    });
  });
}
