import { createServer as createHttpServer } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';

// Services declare their own metrics on `app.metrics` with these.
export { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface MetricsEndpoint {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/** One exposition of several registries (one per service in the embedded shape), each series keeping its `service` label. */
async function exposition(registries: readonly Registry[]): Promise<string> {
  if (registries.length === 1) return registries[0]!.metrics();
  const all = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
  return AggregatorRegistry.aggregate(all).metrics();
}

/**
 * Prometheus `/metrics` on a listener of its own, never on a service's
 * public or API port: METRICS_HOST (loopback by default) and METRICS_PORT.
 * It answers GET and HEAD /metrics and nothing else.
 */
export async function serveMetrics(
  registries: readonly Registry[],
  options: { host: string; port: number; logger: Logger },
): Promise<MetricsEndpoint> {
  const contentType = registries[0]?.contentType ?? 'text/plain; version=0.0.4; charset=utf-8';
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    exposition(registries).then(
      (text) => {
        res.writeHead(200, {
          'content-type': contentType,
          'content-length': Buffer.byteLength(text),
        });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        options.logger.error({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/metrics`;
  options.logger.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
