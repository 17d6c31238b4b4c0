import { migrate } from '@neon/db';
import { createServer } from '@neon/kit';
import { addEngineChecks, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { identitySpec, type IdentityConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'identity';

/** Builds the identity service (accounts, tokens, signing keys and JWKS, profiles, roles, OAuth clients) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: IdentityConfig): Promise<Service> {
  const logger = platform.logger.child({ service: 'identity' });
  const server = createServer({
    name: 'identity',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: platform.shape === 'distributed',
  });
  addEngineChecks(server, platform);
  await migrate(platform.db, SCHEMA, migrations);
  return {
    name: 'identity',
    server,
    async close() {},
  };
}

export const identityService: ServiceModule<typeof identitySpec> = {
  name: 'identity',
  spec: identitySpec,
  listen: (c) => ({ host: c.IDENTITY_HOST, port: c.IDENTITY_PORT }),
  build: buildApp,
};
