import type { Migration } from '@neon/db';

/**
 * Processing takes the next pending event in the provider's order. Without an
 * index in that order every claim read and sorted the whole backlog (bodies
 * and all), so each event cost more the more were waiting; with it a claim
 * walks the pending events in order and stops at the first it may take.
 */
export const claimOrder: Migration = {
  id: '0002_claim_order',
  up: `CREATE INDEX webhook_events_pending_order
         ON payments.webhook_events (provider_created_at, received_at, event_id)
         WHERE state = 'pending'`,
};
