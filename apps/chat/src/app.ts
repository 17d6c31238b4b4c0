import { migrate } from '@neon/db';
import { createServer } from '@neon/kit';
import { addEngineChecks, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { chatSpec, type ChatConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'chat';

/** Builds the chat service (chat rooms over WebSocket (Phoenix Channels V2), history and moderation) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: ChatConfig): Promise<Service> {
  const logger = platform.logger.child({ service: 'chat' });
  const server = createServer({
    name: 'chat',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: platform.shape === 'distributed',
  });
  addEngineChecks(server, platform);
  await migrate(platform.db, SCHEMA, migrations);
  return {
    name: 'chat',
    server,
    async close() {},
  };
}

export const chatService: ServiceModule<typeof chatSpec> = {
  name: 'chat',
  spec: chatSpec,
  listen: (c) => ({ host: c.CHAT_HOST, port: c.CHAT_PORT }),
  build: buildApp,
};
