import type { Migration } from '@neon/db';
import { init } from './0001_init.js';
import { videosByUser } from './0002_videos_by_user.js';
import { userStanding } from './0003_user_standing.js';
import { videoStorage } from './0004_video_storage.js';

/** The live schema's migrations, in order. Forward-only: never edit a shipped one. */
export const migrations: Migration[] = [init, videosByUser, userStanding, videoStorage];
