import type { Migration } from '@neon/db';

/** The payments schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [];
