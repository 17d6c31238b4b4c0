import type { Migration } from '@neon/db';
import { m0001 } from './0001_chat.js';

/** The chat schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [m0001];
