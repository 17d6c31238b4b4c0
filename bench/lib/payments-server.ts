// The payments service alone in its own process, in the distributed shape (PostgreSQL + NATS),
// so /proc/<pid>/stat counts only its CPU. Configured as `npm run start:payments` would be.
import { loadConfig } from '@neon/kit';
import { openPlatform, platformSpec } from '@neon/platform';
import { paymentsService } from '@neon/payments';

const platform = await openPlatform({
  name: 'payments',
  config: loadConfig(platformSpec, process.env),
  shape: 'distributed',
});
const service = await paymentsService.build(
  platform,
  loadConfig(paymentsService.spec, process.env),
);
const url = await service.server.listen({ host: '127.0.0.1', port: 0 });
await service.start?.();
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on(
  'SIGTERM',
  () =>
    void service.server
      .close()
      .then(() => service.close())
      .then(() => platform.close())
      .then(() => process.exit(0)),
);
