import { runStandalone } from '@neon/platform';
import { liveService } from './app.js';

await runStandalone(liveService, process.env);
