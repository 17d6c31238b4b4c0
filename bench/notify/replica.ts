import type { AddressInfo } from 'node:net';
import { JetStreamBus, type Bus } from '@neon/bus';
import { createPostgresDb, type Db } from '@neon/db';
import { createLogger, loadConfig } from '@neon/kit';
import { notifyService } from '@neon/notify';
import type { Platform, Service } from '@neon/platform';

export interface Replica {
  app: Service;
  url: string;
  bus: Bus;
  db: Db;
}

/**
 * One notify replica of the distributed shape, listening on loopback: its own database pool and
 * NATS connection; replicas started with the same namespace share the consumer groups.
 */
export async function startReplica(o: {
  databaseUrl: string;
  natsUrl: string;
  namespace: string;
  secret: string;
  env?: Record<string, string>;
}): Promise<Replica> {
  const db = createPostgresDb({ url: o.databaseUrl, max: 10 });
  const bus = await JetStreamBus.connect({
    url: o.natsUrl,
    producer: 'notify',
    namespace: o.namespace,
  });
  const platform: Platform = {
    shape: 'distributed',
    logger: createLogger({ level: 'error' }),
    db,
    bus,
    redis: null,
    internalSecret: o.secret,
    dataDir: '/nonexistent',
    publicUrl: 'http://localhost:8080',
  };
  const app = await notifyService.build(platform, loadConfig(notifyService.spec, o.env ?? {}));
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  await app.start?.();
  const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
  return { app, url, bus, db };
}

export async function stopReplica(r: Replica): Promise<void> {
  await r.app.server.close();
  await r.app.close();
  await r.bus.close();
  await r.db.close();
}
