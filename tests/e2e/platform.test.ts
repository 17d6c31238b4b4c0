import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  createTestDatabase,
  engines,
  freePort,
  skipUnless,
  waitFor,
  type TestDatabase,
} from '@neon/testing';
import { startEmbedded } from '../../launcher/src/embedded.js';
import { run, startNeon } from './lib/process.js';

const quiet = {
  LOG_LEVEL: 'warn',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  RTMP_PORT: '0',
  RTMP_HOST: '127.0.0.1',
};
const RUNNING = /Neon is running: open (http:\/\/\S+)/;
const account = {
  username: 'persistent_pat',
  email: 'pat@example.test',
  password: 'a long and unusual passphrase',
};

describe('the embedded shape (npm start)', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'neon-platform-'));
    // The start command builds the web app when its build is missing; do that outside the timed part.
    execFileSync(process.execPath, ['scripts/ensure-web.mjs'], { stdio: 'ignore' });
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  // How fast it starts and stops is printed, not asserted: this machine's load is not ours;
  // the bounds here only tell a hang from a slow machine.
  it('serves /healthz, and exits 0 on SIGTERM', async () => {
    const started = Date.now();
    const neon = startNeon({ ...quiet, DATA_DIR: dataDir });
    try {
      const [, url] = await neon.waitFor(RUNNING, 120_000);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      process.stdout.write(`# healthy ${Date.now() - started} ms after the start command\n`);
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200);
      const registered = await fetch(`${url}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(account),
      });
      assert.equal(registered.status, 201);
    } finally {
      const { code, ms } = await neon.stop('SIGTERM');
      assert.equal(code, 0, neon.output().slice(-2000));
      process.stdout.write(`# exited ${ms} ms after SIGTERM\n`);
    }
  });

  it('keeps accounts across a restart of the start command', async () => {
    const neon = startNeon({ ...quiet, DATA_DIR: dataDir });
    try {
      const [, url] = await neon.waitFor(RUNNING, 120_000);
      const login = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-refresh-token-transport': 'body' },
        body: JSON.stringify({ login: account.username, password: account.password }),
      });
      assert.equal(login.status, 200);
      const body = (await login.json()) as { user: { username: string } };
      assert.equal(body.user.username, account.username);
    } finally {
      assert.equal((await neon.stop('SIGTERM')).code, 0);
    }
  });

  it('keeps its data across restarts (embedded Postgres under DATA_DIR)', async () => {
    const env = { ...quiet, DATA_DIR: dataDir };
    const first = await startEmbedded(env);
    await first.platform.db.query('CREATE TABLE IF NOT EXISTS public.restart_probe (v text)');
    await first.platform.db.query('INSERT INTO public.restart_probe VALUES ($1)', ['kept']);
    await first.close();
    const second = await startEmbedded(env);
    try {
      const rows = await second.platform.db.query<{ v: string }>(
        'SELECT v FROM public.restart_probe',
      );
      assert.deepEqual(rows, [{ v: 'kept' }]);
    } finally {
      await second.close();
    }
  });

  it('without PUBLIC_URL, is reached where its gateway listens: token issuer and CORS follow GATEWAY_PORT', async () => {
    const port = await freePort();
    const neon = await startEmbedded({ ...quiet, DATA_DIR: dataDir, GATEWAY_PORT: String(port) });
    const origin = `http://localhost:${port}`;
    const at = `http://127.0.0.1:${port}`;
    try {
      assert.equal(neon.url, origin);
      const preflight = await fetch(`${at}/api/v1/me`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
      const registered = await fetch(`${at}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'port_follower',
          email: 'port@example.test',
          password: 'another unusual passphrase',
        }),
      });
      assert.equal(registered.status, 201);
      const { accessToken } = (await registered.json()) as { accessToken: string };
      const claims = JSON.parse(
        Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8'),
      ) as { iss: string };
      assert.equal(claims.iss, origin);
      // The gateway accepts what it issued under that name.
      const me = await fetch(`${at}/api/v1/me`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      assert.equal(me.status, 200);
    } finally {
      await neon.close();
    }
  });

  it('serves every service’s metrics on one internal endpoint, none on the public port', async () => {
    const metricsPort = await freePort();
    const neon = await startEmbedded({
      ...quiet,
      DATA_DIR: dataDir,
      METRICS_PORT: String(metricsPort),
    });
    try {
      assert.equal(neon.metricsUrl, `http://127.0.0.1:${metricsPort}/metrics`);
      const health = await fetch(`${neon.url}/healthz`);
      assert.equal(health.status, 200);
      const user = await fetch(`${neon.url}/api/v1/users/nobody_here`);
      await user.arrayBuffer();
      const text = await (await fetch(neon.metricsUrl)).text();
      for (const service of ['gateway', 'identity'])
        assert.match(
          text,
          new RegExp(`http_request_duration_seconds_count\\{[^}]*service="${service}"`),
        );
      assert.match(text, /process_cpu_user_seconds_total/);
      const open = await (await fetch(`${neon.url}/metrics`)).text();
      assert.doesNotMatch(open, /http_request_duration_seconds/);
    } finally {
      await neon.close();
    }
  });

  it('refuses a bad config value, naming the variable, with a non-zero exit', async () => {
    const neon = startNeon({ ...quiet, DATA_DIR: dataDir, GATEWAY_PORT: 'abc' });
    const { code } = await new Promise<{ code: number | null }>((resolve) =>
      neon.child.once('exit', (c) => resolve({ code: c })),
    );
    assert.notEqual(code, 0);
    assert.match(neon.output(), /GATEWAY_PORT/);
  });
});

describe('the distributed shape (npm run start:<service>)', () => {
  it('refuses to run a service alone without NATS_URL', async () => {
    const identity = run(process.execPath, ['--import', 'tsx', 'apps/identity/src/main.ts'], {
      ...quiet,
      NATS_URL: '',
      INTERNAL_SECRET: 'x'.repeat(40),
    });
    const code = await new Promise<number | null>((resolve) =>
      identity.child.once('exit', resolve),
    );
    assert.equal(code, 1);
    assert.match(identity.output(), /NATS_URL is required to run identity alone/);
  });

  const { databaseUrl, natsUrl, redisUrl } = engines();
  const skip =
    skipUnless(databaseUrl, 'TEST_DATABASE_URL') ||
    skipUnless(natsUrl, 'TEST_NATS_URL') ||
    skipUnless(redisUrl, 'TEST_REDIS_URL');

  describe('on PostgreSQL, NATS and Redis', { skip }, () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase(databaseUrl!);
    });
    after(async () => db.drop());

    it('runs each service in its own process, ready on the shared engines', async () => {
      // Every process agrees on the public address: it is the tokens' issuer.
      const gatewayPort = await freePort();
      const shared = {
        LOG_LEVEL: 'warn',
        PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
        DATABASE_URL: db.url,
        NATS_URL: natsUrl!,
        REDIS_URL: redisUrl!,
        INTERNAL_SECRET: 'distributed-test-secret-0123456789abcdef',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'neon-dist-')),
      };
      const services = ['identity', 'channels', 'notify', 'payments'] as const;
      const ports = await Promise.all(services.map(() => freePort()));
      const metricsPorts = await Promise.all(services.map(() => freePort()));
      const procs = services.map((name, i) =>
        run(process.execPath, ['--import', 'tsx', `apps/${name}/src/main.ts`], {
          ...shared,
          [`${name.toUpperCase()}_PORT`]: String(ports[i]),
          METRICS_PORT: String(metricsPorts[i]),
        }),
      );
      try {
        for (const [i, p] of procs.entries()) {
          const address = `http://127.0.0.1:${ports[i]}`;
          await waitFor(async () => (await fetch(`${address}/healthz`)).ok, {
            timeoutMs: 30_000,
            what: `${services[i]} up`,
          }).catch((err: unknown) => {
            throw new Error(`${String(err)}\n${p.output().slice(-2000)}`);
          });
          const ready = await fetch(`${address}/readyz`);
          const body = (await ready.json()) as { checks: Record<string, string> };
          assert.equal(ready.status, 200, `${services[i]} ready: ${JSON.stringify(body)}`);
          assert.deepEqual(Object.keys(body.checks).sort(), ['bus', 'database', 'redis']);
          // Metrics on the service's own internal metrics port, not on its API port.
          const metrics = await fetch(`http://127.0.0.1:${metricsPorts[i]}/metrics`);
          assert.match(await metrics.text(), new RegExp(`service="${services[i]}"`));
          assert.equal((await fetch(`${address}/metrics`)).status, 404);
        }
        // The gateway alone in front of identity alone: the same flows as embedded.
        const gateway = run(process.execPath, ['--import', 'tsx', 'apps/gateway/src/main.ts'], {
          ...shared,
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(gatewayPort),
          IDENTITY_URL: `http://127.0.0.1:${ports[0]}`,
          CHANNELS_URL: `http://127.0.0.1:${ports[1]}`,
        });
        procs.push(gateway);
        const base = `http://127.0.0.1:${gatewayPort}`;
        await waitFor(async () => (await fetch(`${base}/healthz`)).ok, {
          timeoutMs: 30_000,
          what: 'gateway up',
        });
        const json = { 'content-type': 'application/json' };
        const reg = await fetch(`${base}/api/v1/auth/register`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            username: 'dist_dana',
            email: 'dana@example.test',
            password: 'distributed passphrase',
          }),
        });
        assert.equal(reg.status, 201, await reg.clone().text());
        const login = await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ login: 'dist_dana', password: 'distributed passphrase' }),
        });
        const { accessToken } = (await login.json()) as { accessToken: string };
        const me = await fetch(`${base}/api/v1/me`, {
          headers: { authorization: `Bearer ${accessToken}` },
        });
        assert.equal(me.status, 200);
        assert.equal(((await me.json()) as { username: string }).username, 'dist_dana');
      } finally {
        for (const p of procs) {
          const { code } = await p.stop('SIGTERM');
          assert.equal(code, 0, p.output().slice(-1500));
        }
      }
    });
  });
});
