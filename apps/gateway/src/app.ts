import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import { createServer } from '@neon/kit';
import type { Platform, Service, ServiceModule } from '@neon/platform';
import { gatewaySpec, type GatewayConfig } from './config.js';

/** Builds the gateway, the one public HTTP entry; never listens. */
export async function buildApp(platform: Platform, config: GatewayConfig): Promise<Service> {
  const logger = platform.logger.child({ service: 'gateway' });
  const server = createServer({
    name: 'gateway',
    logger,
    internalSecret: platform.internalSecret,
    processMetrics: true,
  });

  const webRoot = resolve(config.WEB_ROOT);
  if (existsSync(webRoot)) {
    await server.register(fastifyStatic, { root: webRoot, wildcard: false, index: ['index.html'] });
    // The single-page app owns every other GET path.
    server.setNotFoundHandler((request, reply) => {
      if (
        request.method === 'GET' &&
        !/^\/(api|public|admin|hls|dash|socket|webhooks)\//.test(request.url)
      ) {
        return reply.type('text/html').sendFile('index.html');
      }
      return reply.status(404).type('application/problem+json').send({
        type: 'urn:neon:error:NOT_FOUND',
        title: 'Not Found',
        status: 404,
        code: 'NOT_FOUND',
        requestId: request.id,
      });
    });
  } else {
    logger.warn({ webRoot }, 'web build not found; run npm run build:web');
  }

  return { name: 'gateway', server, async close() {} };
}

export const gatewayService: ServiceModule<typeof gatewaySpec> = {
  name: 'gateway',
  spec: gatewaySpec,
  listen: (c) => ({ host: c.GATEWAY_HOST, port: c.GATEWAY_PORT }),
  build: buildApp,
};
