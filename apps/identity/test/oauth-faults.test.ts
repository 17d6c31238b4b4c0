import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { start, variants, type Harness } from './harness.js';
import { oauthClient } from './oauth-client.js';
import { faultyDb, INTERNAL_DETAIL, loggedErrors } from './oauth-faults.js';

/*
 * When the database fails under the authorization server, the application on
 * the other end hears that the server failed, and nothing of why (the error
 * is logged for us instead); a client's own mistake still gets its precise
 * answer, and is not logged as a failure.
 */
for (const variant of variants()) {
  describe(`OAuth server failures (${variant.name})`, { skip: variant.skip }, () => {
    let h: Harness;
    let cleanup: () => Promise<void>;
    let faults: ReturnType<typeof faultyDb>;
    let errors: ReturnType<typeof loggedErrors>;

    before(async () => {
      const engines = await variant.open();
      cleanup = () => engines.cleanup();
      faults = faultyDb(engines.db);
      h = await start({ db: faults.db, bus: engines.bus });
      errors = loggedErrors(h.platform.logger);
    });
    afterEach(() => {
      faults.failOn(null);
      errors.length = 0;
    });
    after(async () => {
      await h?.close();
      await cleanup?.();
    });

    const { user, newApp, form, consent, codeFor, exchange } = oauthClient(() => h);

    test('the token endpoint answers a failure as server_error, without its cause, and logs it', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      const { code, verifier } = await codeFor(viewer, app.clientId);
      faults.failOn(/INSERT INTO identity\.oauth_refresh_tokens/);
      const res = await exchange(app, code, verifier);
      assert.equal(res.statusCode, 503, res.body);
      assert.deepEqual(res.json(), {
        error: 'server_error',
        error_description: 'The server failed.',
      });
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.ok(!res.body.includes('oauth_secret_internals'), res.body);
      const logged = errors.filter(([, msg]) => msg === 'token endpoint failed');
      assert.equal(logged.length, 1);
      assert.match(String((logged[0]![0].err as Error).message), /oauth_secret_internals/);
    });

    test("a client's mistake keeps its own answer and is not logged as a failure", async () => {
      const owner = await user();
      const app = await newApp(owner);
      const unknown = await exchange(app, 'no-such-code', 'v'.repeat(43));
      assert.equal(unknown.statusCode, 400);
      assert.deepEqual(unknown.json(), {
        error: 'invalid_grant',
        error_description: 'Invalid grant: authorization code is invalid',
      });
      assert.equal(unknown.headers['cache-control'], 'no-store');
      // A client that authenticated with HTTP Basic is told how to (RFC 6749 §5.2).
      const basic = await form(
        '/oauth2/token',
        { grant_type: 'client_credentials' },
        { authorization: `Basic ${Buffer.from(`${app.clientId}:wrong`).toString('base64')}` },
      );
      assert.equal(basic.statusCode, 401);
      assert.equal(basic.json<{ error: string }>().error, 'invalid_client');
      assert.equal(basic.headers['www-authenticate'], 'Basic realm="Service"');
      assert.equal(basic.headers['cache-control'], 'no-store');
      assert.deepEqual(errors, []);
    });

    test('a failure while issuing a code reaches the app as server_error with its state, without its cause', async () => {
      const owner = await user();
      const viewer = await user();
      const app = await newApp(owner);
      faults.failOn(/INSERT INTO identity\.oauth_codes/);
      const { res, url } = await consent(viewer, app.clientId);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(url);
      assert.equal(url.searchParams.get('error'), 'server_error');
      assert.equal(url.searchParams.get('error_description'), 'The server failed.');
      assert.equal(url.searchParams.get('state'), 'st-123');
      assert.equal(url.searchParams.get('code'), null);
      assert.ok(!url.href.includes('oauth_secret_internals'), url.href);
      const logged = errors.find(([, msg]) => msg === 'authorization failed');
      assert.ok(logged, JSON.stringify(errors.map(([, msg]) => msg)));
      assert.match(String((logged[0].err as Error).message), /oauth_secret_internals/);
      // Nothing was granted.
      faults.failOn(null);
      const list = await h.app.server.inject({ url: '/api/v1/oauth/connections', headers: viewer });
      assert.deepEqual(list.json<{ items: unknown[] }>().items, []);
      assert.ok(INTERNAL_DETAIL.includes('oauth_secret_internals'));
    });
  });
}
