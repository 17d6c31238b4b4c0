import { runStandalone } from '@neon/platform';
import { chatService } from './app.js';

await runStandalone(chatService, process.env);
