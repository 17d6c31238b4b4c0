/**
 * Error codes of EventSub, the public API's webhooks (served by channels).
 * Permanent once shipped.
 */
export const eventsubErrors = {
  /** The callback is not a URL a webhook may be sent to (scheme, user info, fragment, port, address). */
  EVENTSUB_CALLBACK_INVALID: 400,
  /** The app holds a pending or enabled subscription of that type, condition and callback already. */
  EVENTSUB_SUBSCRIPTION_EXISTS: 409,
  /** The app holds as many subscriptions as it may (failed ones count until deleted). */
  EVENTSUB_SUBSCRIPTION_LIMIT: 409,
  /** No subscription with that id belongs to the calling app. */
  EVENTSUB_SUBSCRIPTION_NOT_FOUND: 404,
} as const;
