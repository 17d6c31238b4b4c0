import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { start, variants, type Harness } from './harness.js';
import { CALLBACK, oauthClient, pkce } from './oauth-client.js';
import { faultyDb, loggedErrors } from './oauth-faults.js';

/*
 * The consent step once the client and its redirect URI are known good: the
 * application hears every outcome on its redirect URI, with the reason in
 * words a developer can act on and the state it sent (and no state it did
 * not send), and a code only for a well-formed S256 request the user allowed.
 */
for (const variant of variants()) {
  describe(`OAuth consent outcomes (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;
    let faults: ReturnType<typeof faultyDb>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      faults = faultyDb(engines.db);
      h = await start({ db: faults.db, bus: engines.bus });
    });
    afterEach(() => faults.failOn(null));
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    const { user, newApp, form, consent } = oauthClient(() => h);
    const valid = pkce().challenge;

    test('the consent screen is told the app, where it sends the user, and each scope in words', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const res = await h.app.server.inject({
        url: `/api/v1/oauth/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: app.clientId,
          redirect_uri: CALLBACK,
          scope: 'channel:read:followers  user:read:email channel:read:followers',
          code_challenge: valid,
          code_challenge_method: 'S256',
        }).toString()}`,
        headers: viewer,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        clientId: app.clientId,
        appName: 'Stream Tools',
        redirectUri: CALLBACK,
        scopes: [
          { name: 'channel:read:followers', description: 'See who follows your channel' },
          { name: 'user:read:email', description: 'See your email address' },
        ],
      });
    });

    test('the token endpoint refuses the password and implicit grants itself', async () => {
      const owner = await user();
      const app = await newApp(owner);
      for (const grant_type of ['password', 'implicit']) {
        const res = await form('/oauth2/token', {
          grant_type,
          username: 'x',
          password: 'y',
          client_id: app.clientId,
          client_secret: app.clientSecret!,
        });
        assert.equal(res.statusCode, 400, grant_type);
        assert.deepEqual(res.json(), {
          error: 'unsupported_grant_type',
          error_description: 'This grant type is not supported.',
        });
        assert.equal(res.headers['cache-control'], 'no-store');
      }
    });

    test('each refusal reaches the app with its error, its reason and the state, and no code', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const pkceRequired = 'PKCE is required: send code_challenge (S256).';
      const s256Only = 'code_challenge_method must be S256.';
      const shape = 'code_challenge must be a base64url SHA-256 (43 characters).';
      const cases: [Record<string, unknown>, string, string][] = [
        [
          { response_type: 'token' },
          'unsupported_response_type',
          'Only the authorization code flow is supported.',
        ],
        [{ code_challenge: undefined }, 'invalid_request', pkceRequired],
        [{ code_challenge: '' }, 'invalid_request', pkceRequired],
        [{ code_challenge_method: 'plain' }, 'invalid_request', s256Only],
        [{ code_challenge_method: undefined }, 'invalid_request', s256Only],
        [{ code_challenge: valid.slice(1) }, 'invalid_request', shape],
        [{ code_challenge: `${valid}A` }, 'invalid_request', shape],
        [{ code_challenge: `A${valid}` }, 'invalid_request', shape],
        [{ code_challenge: `${valid.slice(1)}=` }, 'invalid_request', shape],
        [{ code_challenge: `${valid.slice(1)}+` }, 'invalid_request', shape],
        [{ code_challenge: `${valid.slice(1)}/` }, 'invalid_request', shape],
        [{ code_challenge: `${valid.slice(1)}.` }, 'invalid_request', shape],
        [
          { scope: 'user:read:email admin:everything' },
          'invalid_scope',
          'The request names a scope that does not exist.',
        ],
        [{ allowed: false }, 'access_denied', 'The user denied the request.'],
        // Checked in this order: the first problem is the one told.
        [
          { response_type: 'token', code_challenge: undefined },
          'unsupported_response_type',
          'Only the authorization code flow is supported.',
        ],
        [
          { scope: 'admin:everything', allowed: false },
          'invalid_scope',
          'The request names a scope that does not exist.',
        ],
      ];
      for (const [extra, error, description] of cases) {
        const what = JSON.stringify(extra);
        const { res, url } = await consent(viewer, app.clientId, extra);
        assert.equal(res.statusCode, 200, `${what}: ${res.body}`);
        assert.ok(url, what);
        assert.equal(url.origin + url.pathname, CALLBACK, what);
        assert.deepEqual(
          [...url.searchParams].sort(),
          [
            ['error', error],
            ['error_description', description],
            ['state', 'st-123'],
          ],
          what,
        );
      }
      // No state sent, none returned.
      const stateless = await consent(viewer, app.clientId, { allowed: false, state: undefined });
      assert.deepEqual([...(stateless.url?.searchParams ?? [])].map(([k]) => k).sort(), [
        'error',
        'error_description',
      ]);
      // Nothing was granted by any of them.
      const list = await h.app.server.inject({ url: '/api/v1/oauth/connections', headers: viewer });
      assert.deepEqual(list.json<{ items: unknown[] }>().items, []);
    });

    test('a well-formed request gets a code, with the state only when one was sent', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      // Every character base64url allows, '-' and '_' included.
      const challenge = `${'-_'.repeat(10)}AZaz09${'x'.repeat(17)}`;
      assert.equal(challenge.length, 43);
      for (const [extra, state] of [
        [{ code_challenge: challenge }, 'st-123'],
        [{ state: undefined }, null],
        [{ state: '' }, null],
      ] as const) {
        const { url } = await consent(viewer, app.clientId, extra);
        assert.ok(url);
        assert.match(url.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/, url.href);
        assert.equal(url.searchParams.get('state'), state, url.href);
        assert.equal(url.searchParams.get('error'), null, url.href);
      }
    });

    test("the library's own refusal reaches the app as it is; a failure before any redirect is our 500", async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const errors = loggedErrors(h.platform.logger);
      // A state the library will not echo (RFC 6749 allows printable ASCII only).
      const { url } = await consent(viewer, app.clientId, { state: 'caf\u00e9' });
      assert.ok(url);
      assert.equal(url.searchParams.get('error'), 'invalid_request');
      assert.equal(url.searchParams.get('error_description'), 'Invalid parameter: `state`');
      assert.equal(url.searchParams.get('code'), null);
      assert.equal(errors.length, 0, JSON.stringify(errors));

      // The client lookup fails in the library, after ours succeeded: there is no redirect
      // to send the app, so the user sees our own problem page, with nothing of the cause.
      faults.failOn(/FROM identity\.oauth_clients WHERE id/, 1);
      const { res } = await consent(viewer, app.clientId);
      assert.equal(res.statusCode, 500, res.body);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      const problem = res.json<{ code: string; detail?: string }>();
      assert.equal(problem.code, 'INTERNAL');
      assert.ok(!res.body.includes('oauth_secret_internals'), res.body);
      assert.ok(!res.body.includes('redirect'), res.body);
      // Logged with its cause.
      const logged = errors.find(([, msg]) => msg === 'unhandled error');
      assert.ok(logged, JSON.stringify(errors.map(([, msg]) => msg)));
      assert.match(String((logged[0].err as Error).message), /oauth_secret_internals/);
    });
  });
}
