// The live service alone in its own process (embedded engines, temp DATA_DIR),
// so load generators and browsers do not share its event loop. Prints one JSON
// line { url, rtmpPort } once it listens.
import { createLogger, loadConfig } from '@neon/kit';
import { openPlatform, platformSpec } from '@neon/platform';
import { buildApp, liveService } from '@neon/live';

const env = process.env;
const platform = await openPlatform({
  name: 'live-bench',
  config: loadConfig(platformSpec, env),
  shape: 'embedded',
  logger: createLogger({ level: 'warn' }),
});
const live = await buildApp(platform, loadConfig(liveService.spec, env));
const url = await live.server.listen({ host: '127.0.0.1', port: 0 });
await live.start!();
process.stdout.write(`${JSON.stringify({ url, rtmpPort: String(live.rtmpPort()) })}\n`);
const stop = async () => {
  await live.server.close();
  await live.close();
  await platform.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
// bench/rtmp-memory.ts runs this with --expose-gc and asks for a full collection.
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => gc?.());
process.once('SIGINT', () => void stop());
