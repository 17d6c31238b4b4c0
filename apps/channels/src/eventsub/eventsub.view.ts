import type { ConsoleEventSubSubscription, EventSubSubscription } from '@neon/contracts';
import type { ConsoleSubscriptionRow, SubscriptionRow } from './eventsub.repository.js';

/** A subscription as the API and every message show it: never its secret. */
export function subscriptionView(
  row: Pick<
    SubscriptionRow,
    'id' | 'status' | 'type' | 'version' | 'broadcaster_user_id' | 'callback' | 'created_at'
  >,
): EventSubSubscription {
  return {
    id: row.id,
    status: row.status,
    type: row.type,
    version: row.version,
    condition: { broadcasterUserId: row.broadcaster_user_id },
    transport: { method: 'webhook', callback: row.callback },
    createdAt: row.created_at.toISOString(),
  };
}

/** A subscription as its app's owner sees it in the developer console. */
export function consoleSubscriptionView(row: ConsoleSubscriptionRow): ConsoleEventSubSubscription {
  return {
    ...subscriptionView(row),
    delivery: {
      failingSince: row.failing_since?.toISOString() ?? null,
      lastFailureAt: row.last_failure_at?.toISOString() ?? null,
      lastFailure: row.last_failure,
      waiting: row.waiting,
    },
  };
}
