import type { Migration } from '@neon/db';

/**
 * Whether an account may publish: a suspension from identity's events.
 * `standing_at` is when identity decided it, so an older event arriving
 * late (two subscriptions apply them) never undoes a newer one.
 */
export const userStanding: Migration = {
  id: '0003_user_standing',
  up: `ALTER TABLE live.users ADD COLUMN suspended_at timestamptz, ADD COLUMN standing_at timestamptz`,
};
