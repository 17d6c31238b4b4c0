import { runStandalone } from '@neon/platform';
import { identityService } from './app.js';

await runStandalone(identityService, process.env);
