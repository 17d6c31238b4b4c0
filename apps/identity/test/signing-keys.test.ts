import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_AUDIENCE, type TokenResponse } from '@neon/contracts';
import { createLogger } from '@neon/kit';
import { sleep } from '@neon/testing';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { migrate } from '@neon/db';
import { migrations } from '../src/db/migrations/index.js';
import { KeyRing } from '../src/keys/key-ring.js';
import { newAccount, PUBLIC_URL, start, variants, type Harness } from './harness.js';

const BODY = { 'x-refresh-token-transport': 'body' };
const SECRET = 'a-signing-key-secret-of-at-least-32-chars';
const logger = createLogger({ level: 'silent', pretty: false, name: 'keys-test' });

for (const variant of variants()) {
  describe(`signing keys (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      h = await start(engines, { KEY_ROTATION_SECONDS: '2', SIGNING_KEY_SECRET: SECRET });
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    async function fetchJwks() {
      const res = await h.app.server.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['cache-control']), /max-age=\d+/);
      return res.json<JSONWebKeySet>();
    }

    test('rotation every 2 s: each signing key was published first, and JWKS keeps every key of a live token', async () => {
      const account = newAccount('rot');
      const reg = await h.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: BODY,
        payload: account,
      });
      assert.equal(reg.statusCode, 201, reg.body);
      let refresh = reg.json<TokenResponse>().refreshToken!;
      const tokens: { token: string; kid: string }[] = [];

      // Until three keys have signed (about 4 s), bounded by the test timeout.
      while (new Set(tokens.map((t) => t.kid)).size < 3) {
        const res = await h.app.server.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          headers: BODY,
          payload: { refreshToken: refresh },
        });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<TokenResponse>();
        refresh = body.refreshToken!;
        const kid = decodeProtectedHeader(body.accessToken).kid!;
        tokens.push({ token: body.accessToken, kid });

        const set = await fetchJwks();
        const jwks = createLocalJWKSet(set);
        for (const t of tokens) {
          // Every token issued so far is unexpired (15 min): each must verify against the JWKS served now.
          const { payload } = await jwtVerify(t.token, jwks, {
            issuer: PUBLIC_URL,
            audience: API_AUDIENCE,
            algorithms: ['RS256'],
          });
          assert.ok(payload.exp! * 1000 > Date.now());
        }
        await sleep(250);
      }
      // Published before signing: JWKS serves every key from its creation, and each successor was created well before its activation.
      const keys = await h.db.query<{ kid: string; created_at: Date; activates_at: Date }>(
        'SELECT kid, created_at, activates_at FROM identity.signing_keys ORDER BY activates_at',
      );
      for (const k of keys.slice(1)) {
        assert.ok(
          k.activates_at.getTime() - k.created_at.getTime() >= 500,
          `key ${k.kid} was published too late`,
        );
      }
      assert.equal(decodeJwt(tokens[0]!.token).sub, reg.json<TokenResponse>().user.id);
    });

    test('private keys are encrypted at rest under SIGNING_KEY_SECRET', async () => {
      const rows = await h.db.query<{ private_key: string; encrypted: boolean }>(
        'SELECT private_key, encrypted FROM identity.signing_keys',
      );
      assert.ok(rows.length >= 2);
      for (const r of rows) {
        assert.equal(r.encrypted, true);
        assert.ok(!r.private_key.includes('PRIVATE KEY'));
      }
      const withoutSecret = new KeyRing({
        db: h.db,
        logger,
        secret: undefined,
        rules: { rotationMs: 2000, tokenTtlMs: 900_000, leewayMs: 60_000 },
      });
      await assert.rejects(withoutSecret.maintain(), /SIGNING_KEY_SECRET/);
      const wrongSecret = new KeyRing({
        db: h.db,
        logger,
        secret: 'another-secret-that-is-long-enough-too',
        rules: { rotationMs: 2000, tokenTtlMs: 900_000, leewayMs: 60_000 },
      });
      await assert.rejects(wrongSecret.maintain());
    });
  });

  describe(`key schedule across replicas (${variant.name})`, { skip: variant.skip }, () => {
    test('replicas reconciling at once agree on one signer and one successor', async () => {
      const engines = await variant.open();
      try {
        await migrate(engines.db, 'identity', migrations);
        const rules = { rotationMs: 3_600_000, tokenTtlMs: 900_000, leewayMs: 60_000 };
        const replicas = [0, 1, 2].map(
          () => new KeyRing({ db: engines.db, logger, secret: SECRET, rules }),
        );
        await Promise.all(replicas.map((r) => r.maintain()));
        await Promise.all(replicas.map((r) => r.maintain()));
        const rows = await engines.db.query<{ kid: string }>(
          'SELECT kid FROM identity.signing_keys',
        );
        assert.equal(rows.length, 2);
        const signers = await Promise.all(replicas.map(async (r) => (await r.signer()).kid));
        assert.equal(new Set(signers).size, 1);
        const published = await replicas[2]!.jwks();
        assert.deepEqual(published.keys.map((k) => k.kid).sort(), rows.map((r) => r.kid).sort());
      } finally {
        await engines.cleanup();
      }
    });

    test('a retired key leaves JWKS, and the database, once every token it signed has expired', async () => {
      const engines = await variant.open();
      try {
        await migrate(engines.db, 'identity', migrations);
        let now = Date.parse('2030-01-01T00:00:00Z');
        const rules = { rotationMs: 1000, tokenTtlMs: 1000, leewayMs: 200 };
        const ring = new KeyRing({ db: engines.db, logger, secret: SECRET, rules, now: () => now });
        await ring.maintain();
        const first = (await ring.signer()).kid;
        const kidsAt = async () => (await ring.jwks()).keys.map((k) => k.kid);
        assert.equal((await kidsAt()).length, 2, 'the signer and its published successor');

        now += 1000; // the successor takes over; a new successor is published
        await ring.maintain();
        const second = (await ring.signer()).kid;
        assert.notEqual(second, first);
        assert.equal((await kidsAt()).length, 3);

        now += 1000 + 199; // the first key's last token expires, leeway not yet over
        await ring.maintain();
        assert.ok((await kidsAt()).includes(first));

        now += 2; // past retirement + token lifetime + leeway
        await ring.maintain();
        assert.ok(!(await kidsAt()).includes(first));
        assert.ok((await kidsAt()).includes(second), 'the second key retired too recently to go');
        const rows = await engines.db.query<{ kid: string }>(
          'SELECT kid FROM identity.signing_keys',
        );
        assert.ok(!rows.some((r) => r.kid === first), 'its private key is deleted');
      } finally {
        await engines.cleanup();
      }
    });
  });
}
