import { runStandalone } from '@neon/platform';
import { gatewayService } from './app.js';

await runStandalone(gatewayService, process.env);
