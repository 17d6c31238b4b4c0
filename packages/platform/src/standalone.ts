import {
  ConfigError,
  createLogger,
  loadConfig,
  runMain,
  serveMetrics,
  type ConfigOf,
} from '@neon/kit';
import type { TSchema } from 'typebox';
import { platformSpec } from './config.js';
import { openPlatform, type Platform, type Service } from './platform.js';

export interface ServiceModule<S extends Record<string, TSchema>> {
  name: string;
  spec: S;
  /** The env variables naming this service's listen address. */
  listen: (config: ConfigOf<S>) => { host: string; port: number };
  build(platform: Platform, config: ConfigOf<S>): Promise<Service>;
}

/**
 * Runs one service alone: the distributed shape. It needs the shared
 * engines, because an in-process bus cannot reach the other services.
 */
export async function runStandalone<S extends Record<string, TSchema>>(
  module: ServiceModule<S>,
  source: NodeJS.ProcessEnv,
): Promise<void> {
  let base: ConfigOf<typeof platformSpec>;
  let own: ConfigOf<S>;
  try {
    base = loadConfig(platformSpec, source);
    own = loadConfig(module.spec, source);
    if (!base.NATS_URL) {
      throw new ConfigError([
        {
          variable: 'NATS_URL',
          message: `is required to run ${module.name} alone: an in-process bus cannot reach the other services (use \`npm start\` for the all-in-one shape)`,
        },
      ]);
    }
    if (!base.INTERNAL_SECRET || base.INTERNAL_SECRET.length < 32) {
      throw new ConfigError([
        {
          variable: 'INTERNAL_SECRET',
          message:
            'is required (32+ characters, the same for the gateway and every service) to run services apart',
        },
      ]);
    }
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const logger = createLogger({
    level: base.LOG_LEVEL,
    pretty: base.LOG_PRETTY,
    name: module.name,
  });
  await runMain({ name: module.name, logger }, async () => {
    const platform = await openPlatform({
      name: module.name,
      config: base,
      logger,
      shape: 'distributed',
    });
    const service = await module.build(platform, own);
    const { host, port } = module.listen(own);
    const address = await service.server.listen({ host, port });
    await service.start?.();
    const metrics = await serveMetrics([service.server.metrics], {
      host: base.METRICS_HOST,
      port: base.METRICS_PORT,
      logger,
    });
    logger.info({ address }, `${module.name} listening`);
    return {
      async close() {
        await service.drain?.();
        await metrics.close();
        await service.server.close();
        await service.close();
        await platform.close();
      },
    };
  });
}
