import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_AUDIENCE, type TokenResponse } from '@neon/contracts';
import { migrate } from '@neon/db';
import { createLogger } from '@neon/kit';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { migrations } from '../src/db/migrations/index.js';
import { KeyRing } from '../src/keys/key-ring.js';
import { TokenIssuer } from '../src/keys/token-issuer.js';
import { newAccount, PUBLIC_URL, start, variants, type Harness } from './harness.js';

const logger = createLogger({ level: 'silent', pretty: false, name: 'key-file-test' });
const BODY = { 'x-refresh-token-transport': 'body' };

async function storedKeys(h: Pick<Harness, 'db'>) {
  return h.db.query<{ kid: string; private_key: string; encrypted: boolean }>(
    'SELECT kid, private_key, encrypted FROM identity.signing_keys ORDER BY kid',
  );
}

async function verify(h: Harness, token: string) {
  const res = await h.app.server.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  const jwks = createLocalJWKSet(res.json<JSONWebKeySet>());
  return jwtVerify(token, jwks, { issuer: PUBLIC_URL, audience: API_AUDIENCE });
}

// The embedded shape without SIGNING_KEY_SECRET: a key file under DATA_DIR
// seals the signing keys, as the stream-key secret does for live.
for (const variant of variants()) {
  describe(
    `signing keys without SIGNING_KEY_SECRET (${variant.name})`,
    {
      skip: variant.skip,
    },
    () => {
      let engines: Awaited<ReturnType<typeof variant.open>>;
      let dataDir: string;

      before(async () => {
        engines = await variant.open();
        dataDir = mkdtempSync(join(tmpdir(), 'neon-identity-keys-'));
      });
      after(async () => {
        await engines?.cleanup();
        rmSync(dataDir, { recursive: true, force: true });
      });

      test('keys made in clear before are sealed on start; a restart keeps every token valid', async () => {
        // Keys stored in clear, as a deployment without a secret used to; a token signed with one.
        await migrate(engines.db, 'identity', migrations);
        const rules = { rotationMs: 30 * 86_400_000, tokenTtlMs: 900_000, leewayMs: 60_000 };
        const clearRing = new KeyRing({ db: engines.db, logger, secret: undefined, rules });
        await clearRing.maintain();
        const before = await storedKeys(engines);
        assert.ok(before.length >= 1);
        assert.ok(before.every((r) => r.private_key.includes('BEGIN PRIVATE KEY')));
        const oldToken = await new TokenIssuer(clearRing, PUBLIC_URL, 900).accessToken({
          id: '018f0000-0000-7000-8000-000000000001',
          username: 'from_before',
          roles: ['user'],
        });

        let h = await start(engines, {}, undefined, dataDir);
        try {
          const file = join(dataDir, 'identity', 'signing-key.secret');
          assert.equal(statSync(file).mode & 0o777, 0o600, 'the key file is the owner’s only');
          assert.match(readFileSync(file, 'utf8'), /^[A-Za-z0-9_-]{43}\n$/);
          const sealed = await storedKeys(h);
          assert.deepEqual(
            sealed.map((r) => r.kid),
            before.map((r) => r.kid),
            'the same keys, sealed',
          );
          for (const r of sealed) {
            assert.equal(r.encrypted, true);
            assert.ok(!r.private_key.includes('PRIVATE KEY'), 'no private key in clear');
          }
          await verify(h, oldToken);
        } finally {
          await h.close();
        }

        // A registration signs with the sealed key; a restart reads the same key file.
        h = await start(engines, {}, undefined, dataDir);
        let session: TokenResponse;
        try {
          const reg = await h.app.server.inject({
            method: 'POST',
            url: '/api/v1/auth/register',
            headers: BODY,
            payload: newAccount('kf'),
          });
          assert.equal(reg.statusCode, 201, reg.body);
          session = reg.json<TokenResponse>();
          assert.ok(before.some((r) => r.kid === decodeProtectedHeader(session.accessToken).kid));
        } finally {
          await h.close();
        }

        h = await start(engines, {}, undefined, dataDir);
        try {
          await verify(h, oldToken);
          await verify(h, session.accessToken);
          const refreshed = await h.app.server.inject({
            method: 'POST',
            url: '/api/v1/auth/refresh',
            headers: BODY,
            payload: { refreshToken: session.refreshToken },
          });
          assert.equal(refreshed.statusCode, 200, 'the restarted service signs with its keys');
          await verify(h, refreshed.json<TokenResponse>().accessToken);
          assert.ok((await storedKeys(h)).every((r) => r.encrypted));
        } finally {
          await h.close();
        }
      });
    },
  );
}
