import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  appHeaders,
  clientHeaders,
  createLogger,
  loadConfig,
  uuidv7,
  type Client,
  type Logger,
} from '@neon/kit';
import type { Platform } from '@neon/platform';
import { stackVariants, uniqueName, type Stack } from '@neon/testing';
import { buildApp, type LiveService } from '../src/app.js';
import { liveSpec } from '../src/config.js';

export interface Harness {
  live: LiveService;
  platform: Platform;
  dataDir: string;
  /** Every line logged at warn or above so far, parsed. */
  logs(): Record<string, unknown>[];
  as(client: Client): Record<string, string>;
  /** The gateway's headers for an OAuth access token: an app's own, or one acting for `user`. */
  asApp(token: {
    clientId: string;
    scopes: readonly string[];
    user?: Client;
  }): Record<string, string>;
  user(name?: string): Client;
  close(): Promise<void>;
}

export interface Variant {
  name: string;
  skip: string | false;
  open(env?: Record<string, string>): Promise<Harness>;
}

async function openWith(
  make: (logger: Logger) => Promise<Stack>,
  env: Record<string, string>,
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'neon-live-'));
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete)
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      process.stdout.write(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination });
  const { db, bus, redis, cleanup } = await make(logger);
  const platform: Platform = {
    shape: 'embedded',
    logger,
    db,
    bus,
    redis,
    internalSecret: randomBytes(32).toString('base64url'),
    dataDir,
    publicUrl: 'http://localhost:8080',
  };
  const config = loadConfig(liveSpec, { RTMP_HOST: '127.0.0.1', RTMP_PORT: '0', ...env });
  const live = await buildApp(platform, config);
  await live.server.ready();
  await live.start?.();
  return {
    live,
    platform,
    dataDir,
    logs: () => [...lines],
    as: (client) => clientHeaders(client, platform.internalSecret),
    asApp: (token) => appHeaders(token, platform.internalSecret),
    user: (name) => ({
      id: uuidv7(),
      username: name ?? uniqueName('u').slice(0, 25).toLowerCase(),
      roles: ['user'],
    }),
    async close() {
      await live.server.close();
      await live.close();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded engines always; PostgreSQL + NATS + Redis when their URLs are set. */
export function variants(): Variant[] {
  return stackVariants('live').map((v) => ({
    name: v.name,
    skip: v.skip,
    open: (env = {}) => openWith((logger) => v.open(logger), env),
  }));
}
