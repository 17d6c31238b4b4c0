import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Socket, type Channel } from 'phoenix';
import WebSocket from 'ws';
import { JetStreamBus, MemoryBus, type Bus } from '@neon/bus';
import { createPostgresDb, type Db } from '@neon/db';
import { createLogger, loadConfig, uuidv7 } from '@neon/kit';
import type { Platform, Service } from '@neon/platform';
import {
  createTestDatabase,
  deleteStream,
  engines,
  openPglite,
  skipUnless,
  uniqueName,
  waitFor,
} from '@neon/testing';
import { buildApp } from '../src/app.js';
import { chatSpec, type ChatConfig } from '../src/config.js';

export interface Engines {
  name: string;
  skip: string | false;
  /** Opens one deployment's engines; replicas share them. */
  open(): Promise<Deployment>;
}

export interface Deployment {
  db: Db;
  bus: Bus;
  redis: Redis | null;
  natsUrl: string | undefined;
  databaseUrl: string | undefined;
  namespace: string;
  subject: string;
  secret: string;
  /** A platform for one more replica on these engines (own connections where the engine allows). */
  platform(): Promise<Platform & { close(): Promise<void> }>;
  cleanup(): Promise<void>;
}

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Embedded (PGlite + in-process bus) always; real PostgreSQL + NATS + Redis when their URLs are set. */
export function engineVariants(): Engines[] {
  const e = engines();
  return [
    {
      name: 'embedded',
      skip: false,
      async open() {
        const db = await openPglite();
        const bus = new MemoryBus({ producer: 'test' });
        const secret = randomBytes(32).toString('base64url');
        return {
          db,
          bus,
          redis: null,
          natsUrl: undefined,
          databaseUrl: undefined,
          namespace: 'embedded',
          subject: 'unused',
          secret,
          async platform() {
            return {
              shape: 'embedded',
              logger,
              db,
              bus,
              redis: null,
              internalSecret: secret,
              dataDir: '.',
              publicUrl: 'http://localhost',
              close: async () => undefined,
            };
          },
          async cleanup() {
            await bus.close();
            await db.close();
          },
        };
      },
    },
    {
      name: 'postgres+nats+redis',
      skip:
        skipUnless(e.databaseUrl, 'TEST_DATABASE_URL') ||
        skipUnless(e.natsUrl, 'TEST_NATS_URL') ||
        skipUnless(e.redisUrl, 'TEST_REDIS_URL'),
      async open() {
        const tdb = await createTestDatabase(e.databaseUrl!);
        const namespace = uniqueName('CHATT').toUpperCase();
        const db = createPostgresDb({ url: tdb.url, max: 5 });
        const bus = await JetStreamBus.connect({ url: e.natsUrl!, producer: 'test', namespace });
        const redis = new Redis(e.redisUrl!, { keyPrefix: `${namespace}:` });
        const secret = randomBytes(32).toString('base64url');
        const opened: (() => Promise<void>)[] = [];
        return {
          db,
          bus,
          redis,
          natsUrl: e.natsUrl,
          databaseUrl: tdb.url,
          namespace,
          subject: `test.chat.${namespace.toLowerCase()}`,
          secret,
          async platform() {
            const rdb = createPostgresDb({ url: tdb.url, max: 5 });
            const rbus = await JetStreamBus.connect({
              url: e.natsUrl!,
              producer: 'chat',
              namespace,
            });
            const rredis = new Redis(e.redisUrl!, { keyPrefix: `${namespace}:` });
            const close = async () => {
              await rbus.close();
              await rdb.close();
              rredis.disconnect();
            };
            opened.push(close);
            return {
              shape: 'distributed',
              logger,
              db: rdb,
              bus: rbus,
              redis: rredis,
              internalSecret: secret,
              dataDir: '.',
              publicUrl: 'http://localhost',
              close,
            };
          },
          async cleanup() {
            for (const c of opened) await c().catch(() => undefined);
            redis.disconnect();
            await bus.close();
            await db.close();
            await deleteStream(e.natsUrl!, namespace);
            await tdb.drop();
          },
        };
      },
    },
  ];
}

export interface Replica {
  service: Service;
  /** ws://…/socket: what the phoenix client is given. */
  socketUrl: string;
  httpUrl: string;
  close(): Promise<void>;
}

/** Builds and listens one chat replica on a deployment. */
export async function startReplica(
  d: Deployment,
  overrides: Partial<Record<keyof ChatConfig, string>> = {},
): Promise<Replica> {
  const config = loadConfig(chatSpec, {
    ...(d.natsUrl ? { NATS_URL: d.natsUrl, CHAT_FANOUT_SUBJECT: d.subject } : {}),
    ...overrides,
  });
  const platform = await d.platform();
  const service = await buildApp(platform, config);
  const address = await service.server.listen({ host: '127.0.0.1', port: 0 });
  await service.start?.();
  let closed = false;
  return {
    service,
    httpUrl: address,
    socketUrl: `${address.replace(/^http/, 'ws')}/socket`,
    async close() {
      if (closed) return;
      closed = true;
      await service.server.close();
      await service.close();
      await platform.close();
    },
  };
}

export interface TestUser {
  id: string;
  username: string;
  displayName: string;
  roles?: ('user' | 'admin')[];
}

export function newUser(prefix = 'u'): TestUser {
  const username = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`.toLowerCase();
  return { id: uuidv7(), username, displayName: `${username.toUpperCase()} display` };
}

/** Registers users the way identity announces them, and waits until chat has its room. */
export async function register(d: Deployment, ...users: TestUser[]): Promise<void> {
  for (const u of users) {
    await d.bus.publish('identity.user.registered.v1', {
      userId: u.id,
      username: u.username,
      displayName: u.displayName,
      createdAt: new Date().toISOString(),
    });
  }
  for (const u of users) {
    await waitFor(
      async () => (await d.db.query(`SELECT 1 FROM chat.users WHERE id = $1`, [u.id])).length > 0,
      { what: `chat to know ${u.username}` },
    );
  }
}

/**
 * A `ws` WebSocket that connects as the gateway does for `user`: the internal
 * secret header, the user in `id`/`username` query parameters.
 */
export function gatewayTransport(
  secret: string,
  user: TestUser | null,
): new (address: string | URL, protocols?: string | string[]) => WebSocket {
  return class GatewayWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      const url = new URL(address);
      const headers: Record<string, string> = { 'x-neon-internal': secret };
      if (user) {
        url.searchParams.set('id', user.id);
        url.searchParams.set('username', user.username);
        if (user.roles) headers['x-client-roles'] = user.roles.join(',');
      }
      super(url, protocols, { headers });
    }
  };
}

export interface Client {
  socket: Socket;
  received: Map<string, unknown[]>;
  close(): void;
}

const sockets = new Set<Socket>();

/** A phoenix client; `user` null is an anonymous reader (through the gateway), `false` bypasses the gateway. */
export function connect(
  replica: { socketUrl: string } | string,
  secret: string,
  user: TestUser | null | false,
  params?: Record<string, string>,
): Socket {
  const url = typeof replica === 'string' ? replica : replica.socketUrl;
  const socket = new Socket(url, {
    transport: user === false ? WebSocket : gatewayTransport(secret, user),
    reconnectAfterMs: () => 50,
    rejoinAfterMs: () => 50,
    heartbeatIntervalMs: 30_000,
    ...(params ? { params } : {}),
  });
  socket.connect();
  sockets.add(socket);
  return socket;
}

export function disconnectAll(): void {
  for (const s of sockets) s.disconnect();
  sockets.clear();
}

export interface Reply {
  status: 'ok' | 'error' | 'timeout';
  response: Record<string, unknown>;
}

/** Joins and resolves with the reply, ok or error. */
export function join(channel: Channel): Promise<Reply> {
  return new Promise((resolve) => {
    channel
      .join(5000)
      .receive('ok', (r: Record<string, unknown>) => resolve({ status: 'ok', response: r }))
      .receive('error', (r: Record<string, unknown>) => resolve({ status: 'error', response: r }))
      .receive('timeout', () => resolve({ status: 'timeout', response: {} }));
  });
}

export function push(channel: Channel, event: string, payload: object): Promise<Reply> {
  return new Promise((resolve) => {
    channel
      .push(event, payload, 5000)
      .receive('ok', (r: Record<string, unknown>) => resolve({ status: 'ok', response: r }))
      .receive('error', (r: Record<string, unknown>) => resolve({ status: 'error', response: r }))
      .receive('timeout', () => resolve({ status: 'timeout', response: {} }));
  });
}

/** Collects every payload of `event` on a channel. */
export function collect<T = Record<string, unknown>>(channel: Channel, event: string): T[] {
  const out: T[] = [];
  channel.on(event, (p: T) => {
    out.push(p);
  });
  return out;
}

/** A bare socket speaking the wire format by hand, for what the phoenix client never sends. */
export async function rawSocket(
  replica: Replica,
  secret: string,
  user: TestUser | null,
): Promise<WebSocket> {
  const Transport = gatewayTransport(secret, user);
  const ws = new Transport(`${replica.socketUrl}/websocket?vsn=2.0.0`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

export function nextFrame(ws: WebSocket, match: (f: unknown[]) => boolean): Promise<unknown[]> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const f = JSON.parse((data as Buffer).toString('utf8')) as unknown[];
      if (match(f)) {
        ws.off('message', on);
        resolve(f);
      }
    };
    ws.on('message', on);
  });
}

export function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}
