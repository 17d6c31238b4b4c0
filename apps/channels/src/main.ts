import { runStandalone } from '@neon/platform';
import { channelsService } from './app.js';

await runStandalone(channelsService, process.env);
