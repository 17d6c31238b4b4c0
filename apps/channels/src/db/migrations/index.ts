import type { Migration } from '@neon/db';
import { init } from './0001_init.js';
import { outbox } from './0002_outbox.js';
import { adminAudit } from './0003_admin_audit.js';
import { searchIndexes } from './0004_search_indexes.js';
import { usernameCOrder } from './0005_username_c_order.js';
import { searchProbes } from './0006_search_probes.js';
import { eventsub } from './0007_eventsub.js';
import { oauthClients } from './0008_oauth_clients.js';
import { eventsubLastFailure } from './0009_eventsub_last_failure.js';

/** The channels schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [
  init,
  outbox,
  adminAudit,
  searchIndexes,
  usernameCOrder,
  searchProbes,
  eventsub,
  oauthClients,
  eventsubLastFailure,
];
