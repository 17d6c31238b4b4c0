import { ConfigError, createLogger, loadConfig, runMain } from '@neon/kit';
import { platformSpec } from '@neon/platform';
import { startEmbedded } from './embedded.js';

// The all-in-one shape: `npm start`.
let level;
try {
  level = loadConfig(platformSpec, process.env);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const logger = createLogger({ level: level.LOG_LEVEL, pretty: level.LOG_PRETTY, name: 'neon' });

await runMain({ name: 'neon', logger }, async () => {
  try {
    const neon = await startEmbedded(process.env, logger);
    logger.info(
      { url: neon.url, rtmpUrl: neon.rtmpUrl, metricsUrl: neon.metricsUrl },
      'Neon is running',
    );
    const ingest = neon.rtmpUrl
      ? `\nPublish with OBS or ffmpeg to ${neon.rtmpUrl}/<stream key>\n`
      : '';
    process.stdout.write(`\nNeon is running: open ${neon.url}\n${ingest}\n`);
    return neon;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
});
