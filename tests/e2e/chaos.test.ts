import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Socket, type Channel } from 'phoenix';
import { WebSocket } from 'ws';
import { Redis } from 'ioredis';
import { createPostgresDb } from '@neon/db';
import {
  LIVE_HOLDERS_KEY,
  parseLiveHolder,
  REFRESH_TRANSPORT_HEADER,
  type SocketTicket,
  type StreamKeyResponse,
  type TokenResponse,
} from '@neon/contracts';
import {
  createTestDatabase,
  engines,
  freePort,
  skipUnless,
  sleep,
  startSmallEncoder,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@neon/testing';
import { run, type Spawned } from './lib/process.js';

// A cluster of real processes on PostgreSQL, NATS and Redis: two gateways,
// two replicas each of identity, live and chat, one channels and one notify.
// Under load (a publisher, players through both gateways, 200 chat sockets of
// which 40 send, logins and refreshes), one gateway, one live replica, one
// chat replica and one identity replica are killed in turn (SIGKILL) and
// started again. What users would notice is measured and asserted.

const { databaseUrl, natsUrl, redisUrl } = engines();
const skip =
  skipUnless(databaseUrl, 'TEST_DATABASE_URL') ||
  skipUnless(natsUrl, 'TEST_NATS_URL') ||
  skipUnless(redisUrl, 'TEST_REDIS_URL');

const HEALTH_INTERVAL_MS = 1000;
const LEASE_MS = 2000;
const PASSWORD = 'chaos passphrase 2026';
const READERS = 160;
const SENDERS = 40;

interface Proc {
  name: string;
  service: string;
  env: Record<string, string>;
  url: string;
  spawned: Spawned | null;
}

/** A chat socket and what it saw: every message id, and the ids it was told were lost (gap). */
interface ChatClient {
  name: string;
  socket: Socket;
  room: Channel;
  seen: Set<string>;
  joinedAt: number;
  gaps: number;
  rejoins: number;
}

interface Sample {
  at: number;
  status: number | 'refused';
}

describe('chaos: processes killed in turn under load', { skip, timeout: 600_000 }, () => {
  let db: TestDatabase;
  const procs = new Map<string, Proc>();
  const dataDirs: string[] = [];
  const clients: ChatClient[] = [];
  const encoders: ChildProcess[] = [];
  let stopLoad = false;
  const timers: NodeJS.Timeout[] = [];
  const secrets = {
    INTERNAL_SECRET: randomBytes(32).toString('base64url'),
    SIGNING_KEY_SECRET: randomBytes(32).toString('base64url'),
    STREAM_KEY_SECRET: randomBytes(32).toString('base64url'),
  };

  function start(p: Proc): void {
    p.spawned = run(process.execPath, [`dist/${p.service}.js`], p.env);
  }

  async function up(p: Proc): Promise<void> {
    await waitFor(async () => (await fetch(`${p.url}/healthz`)).ok, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `${p.name} up`,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${p.spawned?.output().slice(-3000) ?? ''}`);
    });
  }

  async function kill(name: string): Promise<void> {
    const p = procs.get(name)!;
    await p.spawned!.stop('SIGKILL');
    p.spawned = null;
  }

  async function restart(name: string): Promise<void> {
    const p = procs.get(name)!;
    start(p);
    await up(p);
  }

  const gateways = () => ['gateway-1', 'gateway-2'].map((n) => procs.get(n)!.url);

  before(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    db = await createTestDatabase(databaseUrl!);
    const names = [
      ['identity-1', 'identity'],
      ['identity-2', 'identity'],
      ['channels-1', 'channels'],
      ['notify-1', 'notify'],
      ['live-1', 'live'],
      ['live-2', 'live'],
      ['chat-1', 'chat'],
      ['chat-2', 'chat'],
      ['gateway-1', 'gateway'],
      ['gateway-2', 'gateway'],
    ] as const;
    const ports = new Map<string, number>();
    for (const [name] of names) ports.set(name, await freePort());
    const publicUrl = `http://127.0.0.1:${ports.get('gateway-1')}`;
    const urls = (service: string) =>
      names
        .filter(([, s]) => s === service)
        .map(([n]) => `http://127.0.0.1:${ports.get(n)}`)
        .join(',');
    for (const [name, service] of names) {
      const dataDir = mkdtempSync(join(tmpdir(), `neon-chaos-${name}-`));
      dataDirs.push(dataDir);
      const port = String(ports.get(name));
      const env: Record<string, string> = {
        ...secrets,
        LOG_LEVEL: 'warn',
        PUBLIC_URL: publicUrl,
        DATABASE_URL: db.url,
        NATS_URL: natsUrl!,
        REDIS_URL: redisUrl!,
        DATA_DIR: dataDir,
        METRICS_PORT: String(await freePort()),
        [`${service.toUpperCase()}_PORT`]: port,
      };
      if (service === 'gateway')
        Object.assign(env, {
          GATEWAY_HOST: '127.0.0.1',
          IDENTITY_URL: urls('identity'),
          CHANNELS_URL: urls('channels'),
          LIVE_URL: urls('live'),
          CHAT_URL: urls('chat'),
          NOTIFY_URL: urls('notify'),
          GATEWAY_HEALTH_INTERVAL_MS: String(HEALTH_INTERVAL_MS),
          // Every client here comes from one address.
          GATEWAY_AUTH_RATE_LIMIT: '1000000',
          GATEWAY_API_RATE_LIMIT: '1000000',
        });
      if (service === 'live')
        Object.assign(env, {
          RTMP_HOST: '127.0.0.1',
          RTMP_PORT: String(await freePort()),
          LIVE_ADVERTISE_URL: `http://127.0.0.1:${port}`,
          LIVE_HOLDER_LEASE_MS: String(LEASE_MS),
        });
      procs.set(name, { name, service, env, url: `http://127.0.0.1:${port}`, spawned: null });
    }
    // The services first (identity migrates alone, then the rest), then the gateways.
    const order = [...procs.values()];
    start(order[0]!);
    await up(order[0]!);
    for (const p of order.slice(1, -2)) start(p);
    for (const p of order.slice(1, -2)) await up(p);
    for (const p of order.slice(-2)) start(p);
    for (const p of order.slice(-2)) await up(p);
  });

  after(async () => {
    stopLoad = true;
    for (const t of timers) clearInterval(t);
    for (const c of clients) c.socket.disconnect();
    for (const e of encoders) if (e.exitCode === null) e.kill('SIGKILL');
    for (const p of procs.values()) await p.spawned?.stop('SIGKILL');
    await db?.drop();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  });

  async function json<T>(gateway: string, path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${gateway}${path}`, init);
    assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  }

  async function register(gateway: string, username: string): Promise<TokenResponse> {
    return json<TokenResponse>(gateway, '/api/v1/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [REFRESH_TRANSPORT_HEADER]: 'body' },
      body: JSON.stringify({ username, email: `${username}@example.test`, password: PASSWORD }),
    });
  }

  test('every acknowledged message reaches every client, logins recover within a health check, playback within 5 s, nothing lost or doubled', async () => {
    const [g1, g2] = gateways() as [string, string];
    const streamer = uniqueName('st').toLowerCase().slice(0, 25);
    const owner = await register(g1, streamer);
    const senders: { username: string; accessToken: string; refreshToken: string }[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const username = uniqueName(`c${i}`).toLowerCase().slice(0, 25);
      const t = await register(i % 2 ? g2 : g1, username);
      senders.push({ username, accessToken: t.accessToken, refreshToken: t.refreshToken! });
    }

    // --- the publisher, on live-1 ---
    const { streamKey } = await json<StreamKeyResponse>(g1, '/api/v1/me/stream-key', {
      headers: { authorization: `Bearer ${owner.accessToken}` },
    });
    const publish = (replica: string): ChildProcess => {
      const rtmp = procs.get(replica)!.env.RTMP_PORT;
      const child = startSmallEncoder(`rtmp://127.0.0.1:${rtmp}/live/${streamKey}`);
      encoders.push(child);
      return child;
    };
    let encoder = publish('live-1');
    const playable = async (gateway: string): Promise<boolean> => {
      try {
        const master = await fetch(`${gateway}/hls/${streamer}/master.m3u8`);
        if (!master.ok) return false;
        const first = (await master.text()).split('\n').find((l) => l && !l.startsWith('#'));
        if (!first) return false;
        const playlist = await fetch(`${gateway}/hls/${streamer}/${first}`);
        if (!playlist.ok) return false;
        const text = await playlist.text();
        const folder = first.split('/').slice(0, -1).join('/');
        const last = text
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .at(-1);
        if (!last) return false;
        return (await fetch(`${gateway}/hls/${streamer}/${folder}/${last}`)).ok;
      } catch {
        return false;
      }
    };
    await waitFor(async () => (await playable(g1)) && (await playable(g2)), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the broadcast playing through both gateways',
    });

    // --- 200 chat sockets, half through each gateway; 40 of them send ---
    const ticket = async (gateway: string, accessToken: string): Promise<string> =>
      (
        await json<SocketTicket>(gateway, '/api/v1/auth/socket-ticket', {
          method: 'POST',
          headers: { authorization: `Bearer ${accessToken}` },
        })
      ).token;
    const acked = new Map<string, number>(); // message id -> when acknowledged
    const openClient = async (
      i: number,
      sender?: (typeof senders)[number],
    ): Promise<ChatClient> => {
      const gateway = i % 2 ? g2 : g1;
      // Socket tickets are single use: the next connect's is fetched as soon as one is spent.
      let next = sender ? await ticket(gateway, sender.accessToken) : null;
      const refill = () => {
        if (sender)
          void ticket(gateway, sender.accessToken)
            .then((t) => (next = t))
            .catch(() => undefined);
      };
      const socket = new Socket(`${gateway.replace(/^http/, 'ws')}/socket`, {
        transport: WebSocket,
        params: () => (next ? { token: next } : {}),
        reconnectAfterMs: () => 250,
        rejoinAfterMs: () => 250,
        heartbeatIntervalMs: 5000,
      });
      const seen = new Set<string>();
      let lastSeen: string | null = null;
      const client: ChatClient = {
        name: sender ? sender.username : `reader-${i}`,
        socket,
        room: socket.channel(`room:${streamer}`, () =>
          lastSeen ? { last_seen_id: lastSeen } : {},
        ),
        seen,
        joinedAt: 0,
        gaps: 0,
        rejoins: 0,
      };
      socket.onOpen(refill);
      // A ticket lives 60 s: one kept for a later reconnect is renewed before it runs out.
      if (sender) timers.push(setInterval(refill, 20_000));
      const take = (id: string) => {
        seen.add(id);
        if (lastSeen === null || id > lastSeen) lastSeen = id;
      };
      client.room.on('shout', (m: { id: string }) => take(m.id));
      socket.connect();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${client.name} never joined`)), 30_000);
        client.room.join().receive('ok', (reply: { history: { id: string }[]; gap: boolean }) => {
          if (client.joinedAt === 0) client.joinedAt = Date.now();
          else client.rejoins++;
          if (reply.gap) client.gaps++;
          for (const m of reply.history) take(m.id);
          clearTimeout(timer);
          resolve();
        });
      });
      return client;
    };
    for (let i = 0; i < READERS; i += 20)
      clients.push(...(await Promise.all(Array.from({ length: 20 }, (_, k) => openClient(i + k)))));
    const senderClients = await Promise.all(senders.map((s, i) => openClient(READERS + i, s)));
    clients.push(...senderClients);
    const loadStartedAt = Date.now();

    // --- the load: shouts, logins and refreshes, players ---
    const shouts = (async () => {
      let round = 0;
      while (!stopLoad) {
        const c = senderClients[round % senderClients.length]!;
        round++;
        const clientId = randomUUID();
        // A shout whose acknowledgement is lost is retried with its client_id, as the web app does.
        for (let attempt = 0; attempt < 20 && !stopLoad; attempt++) {
          const id = await new Promise<string | null>((resolve) => {
            c.room
              .push('shout', { body: `m${round}`, client_id: clientId }, 3000)
              .receive('ok', (r: { id: string }) => resolve(r.id))
              .receive('error', () => resolve(null))
              .receive('timeout', () => resolve(null));
          });
          if (id) {
            acked.set(id, Date.now());
            break;
          }
          await sleep(250);
        }
        // About four a second: a socket away for a few seconds is caught up by its rejoin's history (50).
        await sleep(200);
      }
    })();
    const auth: Sample[] = [];
    const logins = (async () => {
      let i = 0;
      while (!stopLoad) {
        const s = senders[i % senders.length]!;
        const gateway = i % 2 ? g2 : g1;
        i++;
        const refresh = i % 3 === 0;
        try {
          const res = await fetch(`${gateway}/api/v1/auth/${refresh ? 'refresh' : 'login'}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', [REFRESH_TRANSPORT_HEADER]: 'body' },
            body: JSON.stringify(
              refresh
                ? { refreshToken: s.refreshToken }
                : { login: s.username, password: PASSWORD },
            ),
          });
          auth.push({ at: Date.now(), status: res.status });
          if (res.ok) {
            const t = (await res.json()) as TokenResponse;
            s.accessToken = t.accessToken;
            s.refreshToken = t.refreshToken ?? s.refreshToken;
          } else await res.arrayBuffer();
        } catch {
          // The gateway itself is down: its load balancer would send this elsewhere.
          auth.push({ at: Date.now(), status: 'refused' });
        }
        await sleep(150);
      }
    })();

    const steady = () => sleep(4000);
    await steady();

    // 1. A gateway.
    await kill('gateway-1');
    await steady();
    await restart('gateway-1');
    await steady();

    // 2. The live replica carrying the broadcast: its publisher reconnects, to the other replica.
    await kill('live-1');
    if (encoder.exitCode === null) await once(encoder, 'exit');
    let reconnectedAt = 0;
    const registry = new Redis(redisUrl!);
    const holder = async () =>
      parseLiveHolder(await registry.hget(LIVE_HOLDERS_KEY, streamer))?.replica;
    // Refused while the dead replica's lease lasts; an encoder tries again.
    try {
      for (let attempt = 0; attempt < 40 && reconnectedAt === 0; attempt++) {
        encoder = publish('live-2');
        const exited = once(encoder, 'exit').then(() => true);
        const accepted = waitFor(async () => (await holder()) === procs.get('live-2')!.url, {
          timeoutMs: 15_000,
          intervalMs: 50,
          what: 'the publish accepted',
        }).then(
          () => false,
          () => true,
        );
        if (!(await Promise.race([exited, accepted]))) reconnectedAt = Date.now();
        else await sleep(250);
      }
    } finally {
      registry.disconnect();
    }
    assert.ok(reconnectedAt > 0, 'the publisher got back on air on the other replica');
    await waitFor(async () => (await playable(g1)) && (await playable(g2)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'playback through both gateways',
    });
    const playbackResumeMs = Date.now() - reconnectedAt;
    await restart('live-1');
    await steady();

    // 3. A chat replica; 4. an identity replica.
    await kill('chat-1');
    await steady();
    await restart('chat-1');
    await steady();
    await kill('identity-1');
    await steady();
    await restart('identity-1');
    await steady();

    stopLoad = true;
    await Promise.all([shouts, logins]);
    // Every socket back and caught up.
    await waitFor(() => clients.every((c) => [...acked.keys()].every((id) => c.seen.has(id))), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'every client to hold every message',
    }).catch(() => undefined);
    const missing = clients
      .map((c) => ({ c, lost: [...acked.keys()].filter((id) => !c.seen.has(id)) }))
      .filter((x) => x.lost.length > 0);

    // Logins and refreshes answered 5xx: the longest stretch from a 5xx to the next success.
    let longest5xx = 0;
    let since: number | null = null;
    for (const s of auth) {
      if (typeof s.status === 'number' && s.status >= 500) since ??= s.at;
      else if (s.status !== 'refused' && since !== null) {
        longest5xx = Math.max(longest5xx, s.at - since);
        since = null;
      }
    }
    const fivexx = auth.filter((s) => typeof s.status === 'number' && s.status >= 500).length;
    const refused = auth.filter((s) => s.status === 'refused').length;

    // PostgreSQL: each acknowledged message stored once; every account once.
    const sql = createPostgresDb({ url: db.url, max: 1 });
    let stored: { id: string }[];
    let accounts: number;
    let openBroadcasts: number;
    try {
      stored = await sql.query<{ id: string }>(
        'SELECT id::text FROM chat.messages WHERE channel = $1',
        [streamer],
      );
      accounts = (
        await sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM identity.users WHERE username = ANY($1::text[])',
          [[streamer, ...senders.map((s) => s.username)]],
        )
      )[0]!.n;
      openBroadcasts = (
        await sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM live.videos WHERE channel = $1 AND state IN ('publishing', 'ready', 'unhealthy')`,
          [streamer],
        )
      )[0]!.n;
    } finally {
      await sql.close();
    }
    const storedIds = new Set(stored.map((r) => r.id));

    console.log(
      JSON.stringify({
        chaosFigures: {
          loadSeconds: Math.round((Date.now() - loadStartedAt) / 1000),
          messagesAcknowledged: acked.size,
          messagesStored: stored.length,
          clients: clients.length,
          clientsMissingMessages: missing.length,
          rejoins: clients.reduce((n, c) => n + c.rejoins, 0),
          gaps: clients.reduce((n, c) => n + c.gaps, 0),
          authRequests: auth.length,
          auth5xx: fivexx,
          authRefusedByDeadGateway: refused,
          longest5xxMs: longest5xx,
          playbackResumeMs,
        },
      }),
    );

    assert.ok(acked.size > 100, `${acked.size} messages acknowledged`);
    assert.deepEqual(
      missing.slice(0, 5).map((x) => `${x.c.name} lacks ${x.lost.length}`),
      [],
      'every acknowledged message reached every client',
    );
    for (const id of acked.keys()) assert.ok(storedIds.has(id), `message ${id} stored`);
    assert.equal(stored.length, storedIds.size);
    assert.equal(stored.length, acked.size, 'no message stored twice (client_id retries)');
    assert.equal(accounts, SENDERS + 1);
    assert.equal(
      openBroadcasts,
      1,
      "the dead replica's broadcast was closed when the channel moved",
    );
    assert.ok(
      longest5xx <= HEALTH_INTERVAL_MS,
      `logins and refreshes answered 5xx for ${longest5xx} ms (health check every ${HEALTH_INTERVAL_MS} ms)`,
    );
    assert.ok(
      playbackResumeMs <= 5000,
      `playback resumed ${playbackResumeMs} ms after the reconnect`,
    );
  });
});
