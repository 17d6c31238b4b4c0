import { migrate } from '@neon/db';
import { createServer } from '@neon/kit';
import { addEngineChecks, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { liveSpec, type LiveConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'live';

/** Builds the live service (RTMP ingest, transcoding, CMAF packaging, LL-HLS/DASH origin, VOD, viewer counts) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: LiveConfig): Promise<Service> {
  const logger = platform.logger.child({ service: 'live' });
  const server = createServer({
    name: 'live',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: platform.shape === 'distributed',
  });
  addEngineChecks(server, platform);
  await migrate(platform.db, SCHEMA, migrations);
  return {
    name: 'live',
    server,
    async close() {},
  };
}

export const liveService: ServiceModule<typeof liveSpec> = {
  name: 'live',
  spec: liveSpec,
  listen: (c) => ({ host: c.LIVE_HOST, port: c.LIVE_PORT }),
  build: buildApp,
};
