import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Socket } from 'phoenix';
import { WebSocket } from 'ws';
import {
  createTestDatabase,
  engines,
  freePort,
  skipUnless,
  waitFor,
  type TestDatabase,
  embeddedDataDir,
} from '@neon/testing';
import { run, startNeon, type Spawned } from './lib/process.js';

// What runMain allows a drain before it gives up with exit 1 (packages/kit/src/lifecycle.ts),
// written out: a shutdown that only just beats it is as broken as one that misses it.
const SHUTDOWN_TIMEOUT_MS = 9000;
const RUNNING = /Neon is running: open (http:\/\/\S+)/;
const quiet = {
  LOG_LEVEL: 'warn',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  RTMP_HOST: '127.0.0.1',
  RTMP_PORT: '0',
};

const { databaseUrl, natsUrl, redisUrl } = engines();
const noEngines =
  skipUnless(databaseUrl, 'TEST_DATABASE_URL') ||
  skipUnless(natsUrl, 'TEST_NATS_URL') ||
  skipUnless(redisUrl, 'TEST_REDIS_URL');

interface OpenSocket {
  socket: Socket;
  /** The code of the first close the client saw. */
  closed: Promise<number>;
}

/** A chat socket through the gateway, as the web app opens one, answering heartbeats. */
async function openChat(gatewayUrl: string): Promise<OpenSocket> {
  const socket = new Socket(`${gatewayUrl.replace(/^http/, 'ws')}/socket`, {
    transport: WebSocket,
    // Reconnecting would hide which close the client saw first.
    reconnectAfterMs: () => 600_000,
    heartbeatIntervalMs: 100,
  });
  const closed = new Promise<number>((resolve) => {
    socket.onClose((event: { code: number }) => resolve(event.code));
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.onOpen(() => resolve());
    socket.onError((err: unknown) => reject(new Error(`socket failed: ${String(err)}`)));
  });
  socket.connect();
  await opened;
  // The relay carries frames both ways: a heartbeat is answered.
  const answered = new Promise<void>((resolve) => {
    const ref = socket.onMessage((message: object) => {
      const m = message as { topic?: string; event?: string };
      if (m.topic === 'phoenix' && m.event === 'phx_reply') {
        socket.off([ref]);
        resolve();
      }
    });
  });
  await answered;
  return { socket, closed };
}

/** SIGTERM, and what the client and the process did about it. */
async function terminate(
  proc: Spawned,
  open: OpenSocket,
): Promise<{ code: number | null; ms: number; closeCode: number }> {
  const { code, ms } = await proc.stop('SIGTERM', 20_000);
  const closeCode = await Promise.race([
    open.closed,
    new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000)),
  ]);
  open.socket.disconnect();
  return { code, ms, closeCode };
}

function assertClean(
  proc: Spawned,
  result: { code: number | null; ms: number; closeCode: number },
): void {
  assert.equal(result.closeCode, 1012, 'the client is told the service restarts');
  assert.equal(result.code, 0, proc.output().slice(-2000));
  assert.doesNotMatch(proc.output(), /shutdown timed out/);
  assert.ok(
    result.ms < SHUTDOWN_TIMEOUT_MS / 2,
    `exited in ${result.ms} ms, well before the ${SHUTDOWN_TIMEOUT_MS} ms limit`,
  );
}

const embeddedShapes = [
  { name: 'embedded (PGlite, in-process bus)', skip: false as const, engines: false },
  { name: 'embedded on PostgreSQL, NATS and Redis', skip: noEngines, engines: true },
];

for (const shape of embeddedShapes) {
  describe(`SIGTERM with a chat socket open, ${shape.name}`, { skip: shape.skip }, () => {
    let dataDir: string;
    let db: TestDatabase | undefined;
    before(async () => {
      dataDir = await embeddedDataDir('neon-shutdown-');
      if (shape.engines) db = await createTestDatabase(databaseUrl!);
    });
    after(async () => {
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('the client sees 1012 and the process exits 0 at once', async () => {
      const env: Record<string, string> = { ...quiet, DATA_DIR: dataDir };
      if (db)
        Object.assign(env, { DATABASE_URL: db.url, NATS_URL: natsUrl!, REDIS_URL: redisUrl! });
      const neon = startNeon(env);
      try {
        const [, url] = await neon.waitFor(RUNNING, 60_000);
        const open = await openChat(url!);
        assertClean(neon, await terminate(neon, open));
      } finally {
        await neon.stop('SIGKILL');
      }
    });
  });
}

describe(
  'SIGTERM with a chat socket open, distributed (a process per service)',
  {
    skip: noEngines,
  },
  () => {
    let db: TestDatabase;
    let shared: Record<string, string> | undefined;
    const procs: Spawned[] = [];

    before(async () => {
      db = await createTestDatabase(databaseUrl!);
    });
    after(async () => {
      for (const p of procs) await p.stop('SIGKILL');
      await db.drop();
      if (shared) rmSync(shared.DATA_DIR!, { recursive: true, force: true });
    });

    /** A chat process and a gateway in front of it, both up. */
    async function deploy(): Promise<{ chat: Spawned; gateway: Spawned; url: string }> {
      const [gatewayPort, chatPort, chatMetrics, gatewayMetrics] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
        freePort(),
      ]);
      shared ??= {
        LOG_LEVEL: 'warn',
        DATABASE_URL: db.url,
        NATS_URL: natsUrl!,
        REDIS_URL: redisUrl!,
        INTERNAL_SECRET: 'shutdown-test-secret-0123456789abcdef',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'neon-shutdown-dist-')),
      };
      const url = `http://127.0.0.1:${gatewayPort}`;
      const chat = run(process.execPath, ['--import', 'tsx', 'apps/chat/src/main.ts'], {
        ...shared,
        PUBLIC_URL: url,
        CHAT_PORT: String(chatPort),
        METRICS_PORT: String(chatMetrics),
      });
      procs.push(chat);
      const gateway = run(process.execPath, ['--import', 'tsx', 'apps/gateway/src/main.ts'], {
        ...shared,
        PUBLIC_URL: url,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(gatewayPort),
        METRICS_PORT: String(gatewayMetrics),
        CHAT_URL: `http://127.0.0.1:${chatPort}`,
      });
      procs.push(gateway);
      for (const [name, at, p] of [
        ['chat', `http://127.0.0.1:${chatPort}`, chat],
        ['gateway', url, gateway],
      ] as const) {
        await waitFor(async () => (await fetch(`${at}/healthz`)).ok, {
          timeoutMs: 60_000,
          what: `${name} up`,
        }).catch((err: unknown) => {
          throw new Error(`${String(err)}\n${p.output().slice(-2000)}`);
        });
      }
      return { chat, gateway, url };
    }

    test('chat stopping: the client sees 1012 through the gateway, chat exits 0 at once', async () => {
      const { chat, gateway, url } = await deploy();
      const open = await openChat(url);
      assertClean(chat, await terminate(chat, open));
      assert.equal((await gateway.stop('SIGTERM')).code, 0, gateway.output().slice(-2000));
    });

    test('the gateway stopping: the client sees 1012 from it, the gateway exits 0 at once', async () => {
      const { chat, gateway, url } = await deploy();
      const open = await openChat(url);
      assertClean(gateway, await terminate(gateway, open));
      assert.equal((await chat.stop('SIGTERM')).code, 0, chat.output().slice(-2000));
    });
  },
);

/** Whether any process of a group is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('`npm start` as a process manager runs it (compiled, embedded)', () => {
  let dataDir: string;
  before(async () => {
    execFileSync(process.execPath, ['scripts/ensure-web.mjs'], { stdio: 'ignore' });
    dataDir = await embeddedDataDir('neon-npm-start-');
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  /** `npm start` in a process group of its own, as a terminal or a service manager starts it. */
  async function npmStart(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
    const child = spawn('npm', ['start'], {
      env: { ...process.env, ...quiet, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    process.once('exit', () => groupAlive(child.pid!) && process.kill(-child.pid!, 'SIGKILL'));
    await waitFor(async () => RUNNING.test(out) || child.exitCode !== null, {
      timeoutMs: 120_000,
      what: 'npm start up',
    });
    const url = out.match(RUNNING)?.[1];
    assert.ok(url, out.slice(-3000));
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    return { child, url, output: () => out };
  }

  async function stopped(child: ChildProcess): Promise<number | null> {
    const [code] = (await Promise.race([
      once(child, 'exit'),
      new Promise((resolve) => setTimeout(() => resolve([-1]), 10_000)),
    ])) as [number | null];
    return code;
  }

  test('SIGTERM to the start command drains, exits 0 within 10 s and leaves no process behind', async () => {
    const { child, url, output } = await npmStart();
    try {
      assert.match(
        execFileSync('ps', ['-o', 'args=', '-g', String(child.pid)]).toString(),
        /node [^\n]*dist\/start\.js/,
        'the server runs compiled JavaScript under node, not a TypeScript loader',
      );
      child.kill('SIGTERM');
      assert.equal(await stopped(child), 0, output().slice(-2000));
      await waitFor(async () => !groupAlive(child.pid!), { timeoutMs: 2000, what: 'group empty' });
      await assert.rejects(fetch(`${url}/healthz`), 'the port is free');
    } finally {
      if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    }
  });

  test('Ctrl-C (SIGINT to the whole process group) exits 0 and leaves no process behind', async () => {
    const { child, output } = await npmStart();
    try {
      process.kill(-child.pid!, 'SIGINT');
      assert.equal(await stopped(child), 0, output().slice(-2000));
      await waitFor(async () => !groupAlive(child.pid!), { timeoutMs: 2000, what: 'group empty' });
      assert.doesNotMatch(output(), /shutdown timed out|ERR!/);
    } finally {
      if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
