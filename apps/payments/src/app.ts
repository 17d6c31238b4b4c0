import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { paymentsSpec, type PaymentsConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'payments';

/** Builds the payments service (payment provider webhooks and channel subscriptions) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: PaymentsConfig): Promise<Service> {
  const { server } = await serviceServer(platform, {
    name: 'payments',
    schema: SCHEMA,
    migrations,
  });
  return {
    name: 'payments',
    server,
    async close() {},
  };
}

export const paymentsService: ServiceModule<typeof paymentsSpec> = {
  name: 'payments',
  spec: paymentsSpec,
  listen: (c) => ({ host: c.PAYMENTS_HOST, port: c.PAYMENTS_PORT }),
  build: buildApp,
};
