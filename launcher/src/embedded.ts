import { channelsService } from '@neon/channels';
import { chatService } from '@neon/chat';
import { gatewayService } from '@neon/gateway';
import { identityService } from '@neon/identity';
import { isLiveService, liveService } from '@neon/live';
import { notifyService } from '@neon/notify';
import { paymentsService } from '@neon/payments';
import { Closer, loadConfig, serveMetrics, type Logger } from '@neon/kit';
import {
  openPlatform,
  platformSpec,
  type Platform,
  type Service,
  type ServiceModule,
} from '@neon/platform';
import type { TSchema } from 'typebox';
import { withLocalPublicUrl } from './public-url.js';

interface Upstream {
  variable: string;
  /** Parses the module's config now, so every error shows before anything opens. */
  prepare(source: NodeJS.ProcessEnv): (platform: Platform) => Promise<Service>;
}

function upstream<S extends Record<string, TSchema>>(
  variable: string,
  module: ServiceModule<S>,
): Upstream {
  return {
    variable,
    prepare(source) {
      const config = loadConfig(module.spec, source);
      return (platform) => module.build(platform, config);
    },
  };
}

/** Every upstream service, in start order (the gateway comes last, once their addresses are known). */
export const upstreams: Upstream[] = [
  upstream('IDENTITY_URL', identityService),
  upstream('CHANNELS_URL', channelsService),
  upstream('LIVE_URL', liveService),
  upstream('CHAT_URL', chatService),
  upstream('NOTIFY_URL', notifyService),
  upstream('PAYMENTS_URL', paymentsService),
];

export interface Embedded {
  platform: Platform;
  services: Service[];
  /** The gateway's address: what a browser opens. */
  url: string;
  /** Where encoders publish: `rtmp://host:port/live` (the stream key goes after it). */
  rtmpUrl: string | null;
  /** Every service's Prometheus metrics in one exposition, on METRICS_HOST:METRICS_PORT. */
  metricsUrl: string;
  close(): Promise<void>;
}

/**
 * Ends every service's long-lived work before anything closes: the upstreams
 * first (chat closes its sockets with 1012 through the gateway's relay), then
 * the gateway (whatever it still relays, and it refuses new sockets). A
 * socket left open would hold the gateway's close, and the process, forever.
 */
async function drain(services: readonly Service[]): Promise<void> {
  const gateway = services.filter((s) => s.name === 'gateway');
  const upstream = services.filter((s) => s.name !== 'gateway');
  await Promise.all(upstream.map((s) => s.drain?.() ?? Promise.resolve()));
  await Promise.all(gateway.map((s) => s.drain?.() ?? Promise.resolve()));
}

/**
 * The embedded shape: every service in this process on one platform (one
 * database, one bus), each on a loopback port of its own, behind the gateway.
 * Configuration errors surface before anything opens.
 */
export async function startEmbedded(given: NodeJS.ProcessEnv, logger?: Logger): Promise<Embedded> {
  const source = withLocalPublicUrl(given);
  const base = loadConfig(platformSpec, source);
  const builders = upstreams.map((u) => ({ variable: u.variable, build: u.prepare(source) }));
  const gatewayConfig = loadConfig(gatewayService.spec, source);

  const closer = new Closer();
  const platform = await openPlatform({
    name: 'neon',
    config: base,
    shape: 'embedded',
    ...(logger ? { logger } : {}),
  });
  closer.add('platform', () => platform.close());
  const services: Service[] = [];
  const urls: Record<string, string> = {};
  try {
    for (const { variable, build } of builders) {
      const service = await build(platform);
      closer.add(service.name, async () => {
        await service.server.close();
        await service.close();
      });
      const address = await service.server.listen({ host: '127.0.0.1', port: 0 });
      await service.start?.();
      services.push(service);
      urls[variable] = address;
    }
    const gateway = await gatewayService.build(platform, { ...gatewayConfig, ...urls });
    closer.add('gateway', async () => {
      await gateway.server.close();
      await gateway.close();
    });
    await gateway.server.listen({
      host: gatewayConfig.GATEWAY_HOST,
      port: gatewayConfig.GATEWAY_PORT,
    });
    await gateway.start?.();
    services.push(gateway);
    const metrics = await serveMetrics(
      services.map((s) => s.server.metrics),
      { host: base.METRICS_HOST, port: base.METRICS_PORT, logger: platform.logger },
    );
    closer.add('metrics', () => metrics.close());
    const port = (gateway.server.server.address() as { port: number }).port;
    const rtmpPort = services.find(isLiveService)?.rtmpPort() ?? null;
    return {
      platform,
      services,
      url: `http://localhost:${port}`,
      rtmpUrl: rtmpPort === null ? null : `rtmp://localhost:${rtmpPort}/live`,
      metricsUrl: metrics.url,
      async close() {
        await drain(services);
        await closer.close();
      },
    };
  } catch (err) {
    await closer.close().catch(() => undefined);
    throw err;
  }
}
