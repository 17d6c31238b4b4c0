import { runStandalone } from '@neon/platform';
import { notifyService } from './app.js';

await runStandalone(notifyService, process.env);
