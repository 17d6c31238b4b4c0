import { migrate } from '@neon/db';
import { createServer } from '@neon/kit';
import { addEngineChecks, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { notifySpec, type NotifyConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'notify';

/** Builds the notify service (real-time notifications to browsers over SSE) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: NotifyConfig): Promise<Service> {
  const logger = platform.logger.child({ service: 'notify' });
  const server = createServer({
    name: 'notify',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: platform.shape === 'distributed',
  });
  addEngineChecks(server, platform);
  await migrate(platform.db, SCHEMA, migrations);
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
