import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamBus, MemoryBus, type Bus } from '@neon/bus';
import type { EventType } from '@neon/contracts';
import type { EventOf } from '@neon/contracts';
import { createPostgresDb, type Db } from '@neon/db';
import { clientHeaders, createLogger, loadConfig, type Client } from '@neon/kit';
import type { Platform, Service } from '@neon/platform';
import { decodeJwt } from 'jose';
import { startSmtpServer, type TestSmtpServer } from '@neon/testing/smtp';
import {
  createTestDatabase,
  deleteStream,
  engines,
  openPglite,
  skipUnless,
  uniqueName,
} from '@neon/testing';
import { buildApp, identitySpec, type IdentityConfig } from '../src/app.js';

export const PUBLIC_URL = 'http://neon.test';

export interface Variant {
  name: string;
  skip: string | false;
  open(): Promise<{ db: Db; bus: Bus; cleanup(): Promise<void> }>;
}

/** The embedded engines always; PostgreSQL + NATS when the TEST_* URLs are set. */
export function variants(): Variant[] {
  const { databaseUrl, natsUrl } = engines();
  return [
    {
      name: 'pglite + in-process bus',
      skip: false,
      async open() {
        const db = await openPglite();
        const bus = new MemoryBus({ producer: 'identity' });
        return {
          db,
          bus,
          async cleanup() {
            await bus.close();
            await db.close();
          },
        };
      },
    },
    {
      name: 'postgres + nats',
      skip: skipUnless(databaseUrl, 'TEST_DATABASE_URL') || skipUnless(natsUrl, 'TEST_NATS_URL'),
      async open() {
        const tdb = await createTestDatabase(databaseUrl!);
        const db = createPostgresDb({ url: tdb.url, max: 5 });
        const namespace = uniqueName('idt');
        const bus = await JetStreamBus.connect({ url: natsUrl!, producer: 'identity', namespace });
        return {
          db,
          bus,
          async cleanup() {
            await bus.close();
            await deleteStream(natsUrl!, namespace);
            await db.close();
            await tdb.drop();
          },
        };
      },
    },
  ];
}

export interface Harness {
  app: Service;
  db: Db;
  bus: Bus;
  platform: Platform;
  secret: string;
  close(): Promise<void>;
  /** Headers that make a request come from `client` through the gateway. */
  as(client: Client): Record<string, string>;
  /** The headers the gateway derives from this access token (its session and step-up too). */
  asToken(accessToken: string): Record<string, string>;
}

export function config(overrides: Record<string, string> = {}): IdentityConfig {
  return loadConfig(identitySpec, { REFRESH_GRACE_SECONDS: '5', ...overrides });
}

export async function start(
  engines: { db: Db; bus: Bus },
  overrides: Record<string, string> = {},
  publicUrl = PUBLIC_URL,
  /** A DATA_DIR the caller owns (kept on close); a fresh one removed on close otherwise. */
  dataDir?: string,
): Promise<Harness> {
  const secret = randomBytes(32).toString('base64url');
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'neon-identity-'));
  const platform: Platform = {
    shape: 'embedded',
    logger: createLogger({ level: 'silent', pretty: false, name: 'identity-test' }),
    db: engines.db,
    bus: engines.bus,
    redis: null,
    internalSecret: secret,
    dataDir: dir,
    publicUrl,
  };
  const app = await buildApp(platform, config(overrides));
  await app.server.ready();
  return {
    app,
    db: engines.db,
    bus: engines.bus,
    platform,
    secret,
    as: (client) => clientHeaders(client, secret),
    asToken(accessToken) {
      const c = decodeJwt(accessToken);
      return clientHeaders(
        {
          id: c.sub!,
          username: c.username as string,
          roles: c.roles as ('user' | 'admin')[],
          sessionId: c.sid as string,
          ...(typeof c.sua === 'number' ? { stepUpAt: c.sua } : {}),
        },
        secret,
      );
    },
    async close() {
      await app.server.close();
      await app.close();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects every event of the given types from now on. */
export async function collect<T extends EventType>(
  bus: Bus,
  types: T[],
): Promise<{ events: EventOf<T>[]; close(): Promise<void> }> {
  const events: EventOf<T>[] = [];
  const sub = await bus.subscribe({
    group: uniqueName('collect'),
    types,
    from: 'new',
    handler: async (event) => {
      events.push(event);
    },
  });
  return { events, close: () => sub.close() };
}

let counter = 0;
/** A fresh, valid account. */
export function newAccount(prefix = 'u') {
  counter += 1;
  // Ends in a letter: were the random part all digits, the reserved-name check would strip it
  // and judge the prefix alone (`rot` passes for `root`).
  const username = `${prefix}${counter}_${randomBytes(3).toString('hex')}x`;
  return {
    username,
    email: `${username}@example.test`,
    password: `Correct-horse-${randomBytes(4).toString('hex')}`,
  };
}

/** Identity on a variant's engines with its mail going to a real SMTP server in this process. */
export interface MailStack {
  h: Harness;
  smtp: TestSmtpServer;
  close(): Promise<void>;
}

export async function startWithMail(
  variant: Variant,
  overrides: Record<string, string> = {},
): Promise<MailStack> {
  const smtp = await startSmtpServer();
  const engines = await variant.open();
  const h = await start(engines, { SMTP_URL: smtp.url, MAIL_RETRY_SECONDS: '1', ...overrides });
  return {
    h,
    smtp,
    async close() {
      await h.close();
      await engines.cleanup();
      await smtp.close();
    },
  };
}
