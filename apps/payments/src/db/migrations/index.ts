import type { Migration } from '@neon/db';
import { init } from './0001_init.js';
import { claimOrder } from './0002_claim_order.js';

/** The payments schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [init, claimOrder];
