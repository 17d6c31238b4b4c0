import type { Migration } from '@neon/db';
import { m0001 } from './0001_accounts.js';
import { m0002 } from './0002_login_failures.js';
import { m0003 } from './0003_second_factors.js';
import { m0010 } from './0010_oauth.js';
import { m0011 } from './0011_session_devices.js';
import { m0012 } from './0012_announce_oauth_clients.js';
import { m0013 } from './0013_mail.js';
import { m0014 } from './0014_known_devices.js';

/** The identity schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [m0001, m0002, m0003, m0010, m0011, m0012, m0013, m0014];
