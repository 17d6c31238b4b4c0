import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { notifySpec, type NotifyConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'notify';

/** Builds the notify service (real-time notifications to browsers over SSE) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: NotifyConfig): Promise<Service> {
  const { server } = await serviceServer(platform, { name: 'notify', schema: SCHEMA, migrations });
  return {
    name: 'notify',
    server,
    async close() {},
  };
}

export const notifyService: ServiceModule<typeof notifySpec> = {
  name: 'notify',
  spec: notifySpec,
  listen: (c) => ({ host: c.NOTIFY_HOST, port: c.NOTIFY_PORT }),
  build: buildApp,
};
