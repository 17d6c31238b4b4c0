import type { Migration } from '@neon/db';
import { m0001 } from './0001_accounts.js';
import { m0002 } from './0002_login_failures.js';

/** The identity schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [m0001, m0002];
