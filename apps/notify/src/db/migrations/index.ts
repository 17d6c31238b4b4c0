import type { Migration } from '@neon/db';
import { init } from './0001_init.js';
import { fanout } from './0002_fanout.js';

/** The notify schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [init, fanout];
