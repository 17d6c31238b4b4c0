import { createHmac, randomBytes } from 'node:crypto';
import type { Bus } from '@neon/bus';
import type { AnyEvent } from '@neon/contracts';
import { clientHeaders, createLogger, loadConfig, uuidv7, type Client } from '@neon/kit';
import type { Platform } from '@neon/platform';
import { stackVariants, uniqueName, waitFor, type Stack } from '@neon/testing';
import { buildApp, type PaymentsService } from '../src/app.js';
import { paymentsSpec } from '../src/config.js';

export const WEBHOOK_SECRET = 'whsec_test_primary';
export const OLD_SECRET = 'whsec_test_rotated_out';

export interface Harness {
  app: PaymentsService;
  platform: Platform;
  bus: Bus;
  /** Every payments event published since the start. */
  published: AnyEvent[];
  as(client: Client): Record<string, string>;
  register(name?: string): Promise<Client>;
  close(): Promise<void>;
}

export interface Variant {
  name: string;
  skip: string | false;
  open(env?: Record<string, string>): Promise<Harness>;
}

export function newUser(name?: string): Client {
  return {
    id: uuidv7(),
    username: name ?? uniqueName('u').slice(0, 25).toLowerCase(),
    roles: ['user'],
  };
}

/** A `Stripe-Signature` header as Stripe documents it: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">` per secret. */
export function stripeSignature(
  payload: string | Buffer,
  secrets: readonly string[],
  at = Date.now(),
): string {
  const t = Math.floor(at / 1000);
  const signed = Buffer.concat([Buffer.from(`${t}.`), Buffer.from(payload)]);
  return [
    `t=${t}`,
    ...secrets.map((s) => `v1=${createHmac('sha256', s).update(signed).digest('hex')}`),
  ].join(',');
}

async function openWith(stack: Stack, env: Record<string, string>): Promise<Harness> {
  const { db, bus, redis, cleanup } = stack;
  const platform: Platform = {
    shape: 'embedded',
    logger: createLogger({ level: 'fatal' }),
    db,
    bus,
    redis,
    internalSecret: randomBytes(32).toString('base64url'),
    dataDir: '/nonexistent',
    publicUrl: 'http://localhost:8080',
  };
  const published: AnyEvent[] = [];
  const tap = await bus.subscribe({
    types: [
      'payments.subscription.activated.v1',
      'payments.subscription.renewed.v1',
      'payments.subscription.canceled.v1',
      'payments.subscription.expired.v1',
    ],
    handler: async (e) => {
      published.push(e);
    },
  });
  const config = loadConfig(paymentsSpec, {
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    PAYMENTS_RETRY_MS: '200',
    PAYMENTS_MAX_ATTEMPTS: '5',
    ...env,
  });
  const app = await buildApp(platform, config);
  await app.server.ready();
  await app.start?.();
  return {
    app,
    platform,
    bus,
    published,
    as: (client) => clientHeaders(client, platform.internalSecret),
    async register(name) {
      const user = newUser(name);
      await bus.publish('identity.user.registered.v1', {
        userId: user.id,
        username: user.username,
        displayName: user.username,
        createdAt: new Date().toISOString(),
      });
      await waitFor(
        async () =>
          (await app.server.inject(`/api/v1/channels/${user.username}/subscription`)).statusCode ===
          200,
        { what: `${user.username} known to payments` },
      );
      return user;
    },
    async close() {
      await tap.close();
      await app.server.close();
      await app.close();
      await cleanup();
    },
  };
}

/** The embedded engines always; PostgreSQL + NATS + Redis when their URLs are set. */
export function variants(): Variant[] {
  return stackVariants('payments').map((v) => ({
    name: v.name,
    skip: v.skip,
    open: async (env = {}) => openWith(await v.open(), env),
  }));
}
