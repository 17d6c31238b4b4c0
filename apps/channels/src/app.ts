import { serviceServer, type Platform, type Service, type ServiceModule } from '@neon/platform';
import { channelsSpec, type ChannelsConfig } from './config.js';
import { migrations } from './db/migrations/index.js';

export const SCHEMA = 'channels';

/** Builds the channels service (channel metadata, follows, channel roles, directory and search) from its dependencies; never listens. */
export async function buildApp(platform: Platform, _config: ChannelsConfig): Promise<Service> {
  const { server } = await serviceServer(platform, {
    name: 'channels',
    schema: SCHEMA,
    migrations,
  });
  return {
    name: 'channels',
    server,
    async close() {},
  };
}

export const channelsService: ServiceModule<typeof channelsSpec> = {
  name: 'channels',
  spec: channelsSpec,
  listen: (c) => ({ host: c.CHANNELS_HOST, port: c.CHANNELS_PORT }),
  build: buildApp,
};
