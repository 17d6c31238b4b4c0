import type { Migration } from '@neon/db';
import { m0001 } from './0001_chat.js';
import { m0002 } from './0002_client_id.js';
import { m0003 } from './0003_follows.js';
import { m0004 } from './0004_subscriptions.js';

/** The chat schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [m0001, m0002, m0003, m0004];
