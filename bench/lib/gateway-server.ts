// Our gateway alone in its own process, so /proc/<pid>/stat counts only its CPU.
import { buildApp, gatewayService } from '@neon/gateway';
import { MemoryBus } from '@neon/bus';
import { createLogger, loadConfig } from '@neon/kit';
import type { Platform } from '@neon/platform';

function unused<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get() {
      throw new Error(`the gateway does not use the ${what}`);
    },
  });
}

const platform: Platform = {
  shape: 'embedded',
  logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
  db: unused('database'),
  // In process: the gateway listens for suspensions on it.
  bus: new MemoryBus({ producer: 'bench' }),
  redis: null,
  internalSecret: process.env.BENCH_SECRET ?? '',
  dataDir: '/nonexistent',
  publicUrl: process.env.PUBLIC_URL ?? 'http://localhost:8080',
};
const config = loadConfig(gatewayService.spec, process.env);
const service = await buildApp(platform, config);
const url = await service.server.listen({ host: '127.0.0.1', port: 0 });
await service.start?.();
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on(
  'SIGTERM',
  () =>
    void service.server
      .close()
      .then(() => service.close())
      .then(() => process.exit(0)),
);
