import assert from 'node:assert/strict';
import { KeyObject, randomUUID, sign as rsaSign } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import { JwksCache } from '../src/auth/jwks.js';
import {
  TokenError,
  TokenVerifier,
  checkClaims,
  type VerifiedToken,
  type VerifyRules,
} from '../src/auth/verifier.js';
import { PUBLIC_URL, captureLogger, makeKeys, type Keys } from './harness.js';

// Each rule of the token verifier at its exact figure, one step either side:
// the gateway tests go through HTTP and cover each rule once; a bound off by
// one (a token one second too old, a lifetime one second too long, a `kid`
// one character too long) lets a token through that must not pass.

const NOW = 1_800_000_000;
const RULES: VerifyRules = {
  issuer: PUBLIC_URL,
  audience: 'neon-api',
  maxLifetimeSeconds: 900,
  leewaySeconds: 30,
};

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: PUBLIC_URL,
  aud: 'neon-api',
  sub: '0190f000-0000-7000-8000-000000000001',
  username: 'alice',
  roles: ['user'],
  iat: NOW,
  exp: NOW + 900,
  jti: 'j1',
  sid: 's1',
  ...extra,
});

/** The code a rule refuses with, or the verified token. */
function outcome(fn: () => VerifiedToken | null): string | VerifiedToken | null {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof TokenError, String(err));
    assert.equal(err.name, 'TokenError');
    return err.code;
  }
}

const check = (c: Record<string, unknown>, rules: Partial<VerifyRules> = {}, now = NOW) =>
  outcome(() => checkClaims(c, { ...RULES, ...rules }, now));

const passes = (result: ReturnType<typeof check>) => typeof result === 'object' && result !== null;

describe('claims', () => {
  test('a valid token gives its caller, roles, jti, sid and times', () => {
    assert.deepEqual(checkClaims(claims(), RULES, NOW), {
      sub: '0190f000-0000-7000-8000-000000000001',
      username: 'alice',
      roles: ['user'],
      jti: 'j1',
      sid: 's1',
      sua: null,
      iat: NOW,
      exp: NOW + 900,
      aud: 'neon-api',
      clientId: null,
      scope: null,
    });
  });

  test('OAuth tokens need client_id and scope; an app token has no username', () => {
    const oauth = { ...RULES, audience: 'neon-public-api', oauth: true };
    const user = claims({ aud: 'neon-public-api', client_id: 'app1', scope: 'user:read:email' });
    const ok = checkClaims(user, oauth, NOW);
    assert.equal(ok.clientId, 'app1');
    assert.equal(ok.scope, 'user:read:email');
    const app = claims({
      aud: 'neon-public-api',
      sub: 'app1',
      client_id: 'app1',
      scope: '',
      username: undefined,
    });
    assert.equal(checkClaims(app, oauth, NOW).username, '');
    // A token without a username must be the app's own.
    assert.throws(() =>
      checkClaims({ ...app, sub: '0190f000-0000-7000-8000-000000000001' }, oauth, NOW),
    );
    assert.throws(() => checkClaims({ ...user, client_id: undefined }, oauth, NOW));
    assert.throws(() => checkClaims({ ...user, scope: undefined }, oauth, NOW));
    // A first-party token is not an OAuth one, and the reverse.
    assert.throws(() => checkClaims(claims(), oauth, NOW));
    assert.throws(() => checkClaims(user, RULES, NOW));
  });

  test('issuer and audience: exactly ours, the audience alone or in a list', () => {
    assert.equal(check(claims({ iss: `${PUBLIC_URL}/` })), 'AUTH_TOKEN_INVALID');
    assert.equal(check(claims({ iss: undefined })), 'AUTH_TOKEN_INVALID');
    assert.ok(passes(check(claims({ aud: ['other', 'neon-api'] }))));
    assert.equal(check(claims({ aud: ['other'] })), 'AUTH_TOKEN_INVALID');
    assert.equal(check(claims({ aud: 'neon-api-x' })), 'AUTH_TOKEN_INVALID');
    assert.equal(check(claims({ aud: undefined })), 'AUTH_TOKEN_INVALID');
    // A string containing the audience is not a list containing it.
    assert.equal(check(claims({ aud: 'x neon-api' })), 'AUTH_TOKEN_INVALID');
  });

  test('exp and iat are finite numbers', () => {
    for (const bad of [undefined, '1800000900', null, Infinity, NaN]) {
      assert.equal(check(claims({ exp: bad })), 'AUTH_TOKEN_INVALID', `exp ${String(bad)}`);
      assert.equal(check(claims({ iat: bad })), 'AUTH_TOKEN_INVALID', `iat ${String(bad)}`);
    }
  });

  test('lifetime: up to the longest allowed, not a second more', () => {
    assert.ok(passes(check(claims({ iat: NOW, exp: NOW + 900 }))));
    assert.equal(check(claims({ iat: NOW, exp: NOW + 901 })), 'AUTH_TOKEN_INVALID');
  });

  test('issued in the future: within the leeway only', () => {
    assert.ok(passes(check(claims({ iat: NOW + 30, exp: NOW + 930 }))));
    assert.equal(check(claims({ iat: NOW + 31, exp: NOW + 931 })), 'AUTH_TOKEN_INVALID');
  });

  test('not before: absent, or a number within the leeway', () => {
    assert.ok(passes(check(claims({ nbf: NOW + 30 }))));
    assert.equal(check(claims({ nbf: NOW + 31 })), 'AUTH_TOKEN_INVALID');
    assert.equal(check(claims({ nbf: String(NOW) })), 'AUTH_TOKEN_INVALID');
    assert.equal(check(claims({ nbf: null })), 'AUTH_TOKEN_INVALID');
  });

  test('expiry: expired once past the leeway, or past the tighter expiry leeway', () => {
    const at = (exp: number, rules: Partial<VerifyRules> = {}) =>
      check(claims({ iat: exp - 600, exp }), rules);
    assert.ok(passes(at(NOW - 29)));
    assert.equal(at(NOW - 30), 'AUTH_TOKEN_EXPIRED');
    assert.ok(passes(at(NOW - 4, { expiryLeewaySeconds: 5 })));
    assert.equal(at(NOW - 5, { expiryLeewaySeconds: 5 }), 'AUTH_TOKEN_EXPIRED');
    // A leeway of 0 is a figure, not "unset".
    assert.ok(passes(at(NOW + 1, { expiryLeewaySeconds: 0 })));
    assert.equal(at(NOW, { expiryLeewaySeconds: 0 }), 'AUTH_TOKEN_EXPIRED');
  });

  test('sub and username are non-empty strings', () => {
    for (const name of ['sub', 'username']) {
      for (const bad of [undefined, '', 42])
        assert.equal(check(claims({ [name]: bad })), 'AUTH_TOKEN_INVALID', `${name} ${bad}`);
      assert.ok(passes(check(claims({ [name]: 'x' }))));
    }
  });

  test('roles: a list, of which only the known roles are kept', () => {
    assert.equal(check(claims({ roles: 'admin' })), 'AUTH_TOKEN_INVALID');
    assert.equal(check(claims({ roles: { 0: 'admin' } })), 'AUTH_TOKEN_INVALID');
    const roles = (r: unknown) => checkClaims(claims({ roles: r }), RULES, NOW).roles;
    assert.deepEqual(roles(undefined), []);
    assert.deepEqual(roles([]), []);
    assert.deepEqual(roles(['admin', 'root', 'user', 1, null, 'Admin']), ['admin', 'user']);
  });

  test('jti and sid: kept when non-empty strings (sid up to 64 characters), else null', () => {
    const got = (c: Record<string, unknown>) => checkClaims(claims(c), RULES, NOW);
    assert.equal(got({ jti: '' }).jti, null);
    assert.equal(got({ jti: 7 }).jti, null);
    assert.equal(got({ jti: undefined }).jti, null);
    assert.equal(got({ jti: 'x' }).jti, 'x');
    assert.equal(got({ sid: '' }).sid, null);
    assert.equal(got({ sid: 7 }).sid, null);
    assert.equal(got({ sid: 'x' }).sid, 'x');
    assert.equal(got({ sid: 's'.repeat(64) }).sid, 's'.repeat(64));
    assert.equal(got({ sid: 's'.repeat(65) }).sid, null);
  });
});

const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('signed tokens', () => {
  let keys: Keys;
  let other: Keys;
  let published: JWK[];
  let fetches: number;
  let verifier: TokenVerifier;

  before(async () => {
    [keys, other] = await Promise.all([makeKeys(), makeKeys()]);
    published = [keys.publicJwk];
    fetches = 0;
    const jwks = new JwksCache(
      async () => {
        fetches++;
        return { keys: published };
      },
      { cooldownMs: 0, logger: captureLogger().logger },
    );
    verifier = new TokenVerifier(jwks);
  });

  /** Signs `payload` under `header` with `by`'s private key, RS256 written out by hand. */
  const sign = (
    payload: string,
    header: Record<string, unknown> = {},
    by: Keys = keys,
    rawHeader?: string,
  ) => {
    const input = `${rawHeader ?? b64url(JSON.stringify({ alg: 'RS256', kid: by.kid, typ: 'JWT', ...header }))}.${b64url(payload)}`;
    const signature = rsaSign('sha256', Buffer.from(input), KeyObject.from(by.privateKey));
    return `${input}.${signature.toString('base64url')}`;
  };
  const token = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    sign(JSON.stringify(claims(extra)), header);

  const verdict = async (t: string, now = NOW): Promise<string | VerifiedToken> => {
    try {
      return await verifier.verify(t, RULES, now);
    } catch (err) {
      assert.ok(err instanceof TokenError, String(err));
      return `${err.code}: ${err.reason}`;
    }
  };

  test('a valid token verifies, first after fetching the keys, then from the cache', async () => {
    const t = token();
    assert.equal((await verdict(t)) instanceof Object, true);
    assert.deepEqual(await verdict(t), checkClaims(claims(), RULES, NOW));
    assert.deepEqual(verifier.verifyKnown(t, RULES, NOW), checkClaims(claims(), RULES, NOW));
    // The claim rules apply to signed tokens too.
    assert.equal(await verdict(t, NOW + 930), 'AUTH_TOKEN_EXPIRED: expired');
  });

  test('a signature made of any base64url character verifies', async () => {
    // Signatures until every edge of the alphabet has appeared in one that verified.
    const edges = new Set('azAZ09-_');
    for (let i = 0; edges.size > 0 && i < 200; i++) {
      const t = token({ jti: randomUUID() });
      const sig = t.slice(t.lastIndexOf('.') + 1);
      const found = [...edges].filter((c) => sig.includes(c));
      if (found.length === 0) continue;
      assert.equal(typeof (await verdict(t)), 'object', `signature ${sig}`);
      for (const c of found) edges.delete(c);
    }
    assert.deepEqual([...edges], []);
  });

  test('anything but three dot-separated parts is refused', async () => {
    const t = token();
    for (const bad of [
      t.slice(0, t.lastIndexOf('.')),
      t.replaceAll('.', ''),
      `${t}.`,
      `${t}.x`,
      `.${t}`,
    ]) {
      const v = await verdict(bad);
      assert.equal(typeof v, 'string', bad);
      assert.match(v as string, /^AUTH_TOKEN_INVALID/);
    }
    assert.equal(await verdict(`${t}.`), 'AUTH_TOKEN_INVALID: not a compact JWS');
    assert.equal(
      await verdict(t.slice(0, t.lastIndexOf('.'))),
      'AUTH_TOKEN_INVALID: not a compact JWS',
    );
  });

  test('the protected header: RS256, no crit, a kid of 1 to 256 characters', async () => {
    assert.equal(
      await verdict(token({}, { alg: 'HS256' })),
      'AUTH_TOKEN_INVALID: alg must be RS256',
    );
    assert.equal(
      await verdict(token({}, { alg: 'none' })),
      'AUTH_TOKEN_INVALID: alg must be RS256',
    );
    assert.equal(
      await verdict(token({}, { crit: ['exp'] })),
      'AUTH_TOKEN_INVALID: crit headers unsupported',
    );
    for (const kid of [undefined, '', 5, 'k'.repeat(257)])
      assert.equal(await verdict(token({}, { kid })), 'AUTH_TOKEN_INVALID: kid missing', `${kid}`);
    assert.equal(await verdict(token({}, { kid: 'nobody' })), 'AUTH_TOKEN_INVALID: unknown kid');
    // Padding, the other alphabet, not JSON, not an object.
    const payload = JSON.stringify(claims());
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: keys.kid }));
    for (const [raw, reason] of [
      [`${header}=`, 'malformed segment'],
      [
        Buffer.from(JSON.stringify({ alg: 'RS256', kid: keys.kid, x: '>>>?' })).toString('base64'),
        'malformed segment',
      ],
      [b64url('{"alg":'), 'segment is not JSON'],
      [b64url('["RS256"]'), 'segment is not an object'],
      [b64url('null'), 'segment is not an object'],
      [b64url('"RS256"'), 'segment is not an object'],
    ] as const) {
      assert.equal(
        await verdict(sign(payload, {}, keys, raw)),
        `AUTH_TOKEN_INVALID: ${reason}`,
        raw,
      );
    }
  });

  test('a kid of exactly 256 characters is looked up', async () => {
    const long = await makeKeys('k'.repeat(256));
    published = [keys.publicJwk, long.publicJwk];
    const t = sign(JSON.stringify(claims()), {}, long);
    assert.equal(typeof (await verdict(t)), 'object');
  });

  test('a key published after a rotation is fetched once; an unknown one stays refused', async () => {
    const rotated = await makeKeys();
    const before = fetches;
    const t = sign(JSON.stringify(claims()), {}, rotated);
    assert.equal(await verdict(t), 'AUTH_TOKEN_INVALID: unknown kid');
    assert.equal(fetches, before + 1);
    published = [keys.publicJwk, rotated.publicJwk];
    assert.equal(typeof (await verdict(t)), 'object');
    assert.equal(fetches, before + 2);
    // Known now: no fetch, and the synchronous path answers.
    assert.equal(typeof verifier.verifyKnown(t, RULES, NOW), 'object');
    assert.equal(fetches, before + 2);
    // An unknown kid on the synchronous path asks for a fetch rather than refusing.
    assert.equal(verifier.verifyKnown(sign('{}', { kid: 'later' }), RULES, NOW), null);
  });

  test('the signature: the key named, its length, one spelling, every bit', async () => {
    const t = token();
    const dot = t.lastIndexOf('.');
    const sig = t.slice(dot + 1);
    const head = t.slice(0, dot + 1);
    // Signed by another key under our kid.
    const forged = `${head}${sign(JSON.stringify(claims()), { kid: keys.kid }, other).split('.')[2]}`;
    assert.equal(await verdict(forged), 'AUTH_TOKEN_INVALID: bad signature');
    // One character more or less, or padded.
    assert.equal(await verdict(`${t}A`), 'AUTH_TOKEN_INVALID: malformed signature');
    assert.equal(await verdict(t.slice(0, -1)), 'AUTH_TOKEN_INVALID: malformed signature');
    assert.equal(await verdict(`${t.slice(0, -2)}==`), 'AUTH_TOKEN_INVALID: malformed signature');
    // The same bytes in the other base64 alphabet: node's decoder would take them.
    const classic = Buffer.from(sig, 'base64url').toString('base64').replace(/=+$/, '');
    assert.notEqual(classic, sig);
    assert.equal(await verdict(`${head}${classic}`), 'AUTH_TOKEN_INVALID: malformed signature');
    const i = sig.search(/[-_]/);
    assert.ok(i >= 0);
    const spelled = `${head}${sig.slice(0, i)}${sig[i] === '-' ? '+' : '/'}${sig.slice(i + 1)}`;
    assert.equal(await verdict(spelled), 'AUTH_TOKEN_INVALID: malformed signature');
    // 256 bytes take 342 characters: the last carries 2 bits of the signature, then 4
    // of padding. Another of its 2 bits: a bad signature. A padding bit set: the same
    // bytes to node's decoder, but another spelling of the token, refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    assert.equal(last & 0b1111, 0);
    for (let value = 0; value < 64; value++) {
      if (value === last) continue;
      const other = `${t.slice(0, -1)}${alphabet[value]}`;
      if ((value & 0b1111) === 0) {
        assert.equal(await verdict(other), 'AUTH_TOKEN_INVALID: bad signature', alphabet[value]);
        continue;
      }
      if (value >> 4 === last >> 4)
        assert.deepEqual(
          Buffer.from(other.slice(dot + 1), 'base64url'),
          Buffer.from(sig, 'base64url'),
        );
      assert.equal(
        await verdict(other),
        'AUTH_TOKEN_INVALID: malformed signature',
        alphabet[value],
      );
    }
    // The payload changed under a valid signature.
    const [h, , s] = t.split('.');
    const other2 = `${h}.${b64url(JSON.stringify(claims({ username: 'mallory' })))}.${s}`;
    assert.equal(await verdict(other2), 'AUTH_TOKEN_INVALID: bad signature');
  });

  test('a signed payload that is not a JSON object is refused', async () => {
    assert.equal(await verdict(sign('not json')), 'AUTH_TOKEN_INVALID: segment is not JSON');
    assert.equal(await verdict(sign('[1]')), 'AUTH_TOKEN_INVALID: segment is not an object');
  });

  test('a token longer than the scratch buffer verifies the same', async () => {
    const big = token({ pad: 'p'.repeat(6000) });
    assert.ok(big.indexOf('.', big.indexOf('.') + 1) > 4096);
    assert.deepEqual(await verdict(big), checkClaims(claims(), RULES, NOW));
    // And a forged long one does not.
    const [h, p, s] = big.split('.');
    const tampered = `${h}.${p!.slice(0, -4)}AAAA.${s}`;
    assert.equal(await verdict(tampered), 'AUTH_TOKEN_INVALID: bad signature');
  });
});
