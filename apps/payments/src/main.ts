import { runStandalone } from '@neon/platform';
import { paymentsService } from './app.js';

await runStandalone(paymentsService, process.env);
