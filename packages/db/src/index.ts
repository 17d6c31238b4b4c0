import { join } from 'node:path';
import { createPostgresDb } from './postgres.js';
import { createPgliteDb } from './pglite.js';
import type { Db } from './types.js';

export * from './types.js';
export { migrate, type MigrationResult } from './migrate.js';
export { createPostgresDb } from './postgres.js';
export { createPgliteDb } from './pglite.js';

export interface OpenDbOptions {
  /** PostgreSQL when set; otherwise embedded PGlite under `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  applicationName?: string;
  poolSize?: number;
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    return createPostgresDb({
      url: options.databaseUrl,
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
      ...(options.poolSize ? { max: options.poolSize } : {}),
    });
  }
  return createPgliteDb({ dataDir: join(options.dataDir, 'postgres') });
}
