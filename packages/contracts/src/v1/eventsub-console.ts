import Type, { type Static } from 'typebox';
import { Uuid } from './common.js';
import { EventSubSubscription } from './public-api.js';

/*
 * An application's webhooks (EventSub) in the developer console, served by
 * channels under /api/v1 to the app's owner signed in to Neon (the app itself
 * uses /public/v1/eventsub/subscriptions with its own token).
 */

/** A client id as identity issues them: base64url. */
export const OAuthClientIdParam = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_-]+$',
});

/** `GET /api/v1/eventsub/apps/:clientId/subscriptions` */
export const ConsoleEventSubParams = Type.Object({ clientId: OAuthClientIdParam });
export type ConsoleEventSubParams = Static<typeof ConsoleEventSubParams>;
/** `DELETE /api/v1/eventsub/apps/:clientId/subscriptions/:id` */
export const ConsoleEventSubItemParams = Type.Object({ clientId: OAuthClientIdParam, id: Uuid });
export type ConsoleEventSubItemParams = Static<typeof ConsoleEventSubItemParams>;

/** A page of the console's list holds at most this many. */
export const CONSOLE_EVENTSUB_PAGE_LIMIT = 100;
export const ConsoleEventSubQuery = Type.Object(
  {
    /** `nextCursor` of the page before. */
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CONSOLE_EVENTSUB_PAGE_LIMIT })),
  },
  { additionalProperties: false },
);
export type ConsoleEventSubQuery = Static<typeof ConsoleEventSubQuery>;

/**
 * How sending to a subscription goes, as far as the service knows it: it
 * records failures, not each success (a busy subscription would be rewritten
 * on every message).
 */
export const EventSubDelivery = Type.Object({
  /** Since when every message to the callback has failed; null while it answers. */
  failingSince: Type.Union([Type.String(), Type.Null()]),
  /** The last failed attempt (a verification, notification or revocation), and why it failed. */
  lastFailureAt: Type.Union([Type.String(), Type.Null()]),
  lastFailure: Type.Union([Type.String(), Type.Null()]),
  /** Messages not yet taken by the callback (retries included). */
  waiting: Type.Integer({ minimum: 0 }),
});
export type EventSubDelivery = Static<typeof EventSubDelivery>;

/** A subscription as its app's owner sees it in the console: as the public API shows it, plus delivery. */
export const ConsoleEventSubSubscription = Type.Object({
  ...EventSubSubscription.properties,
  delivery: EventSubDelivery,
});
export type ConsoleEventSubSubscription = Static<typeof ConsoleEventSubSubscription>;

/** Oldest first. `total` counts every subscription the app holds; `maxTotal` is the cap. */
export const ConsoleEventSubList = Type.Object({
  items: Type.Array(ConsoleEventSubSubscription),
  total: Type.Integer({ minimum: 0 }),
  maxTotal: Type.Integer({ minimum: 0 }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ConsoleEventSubList = Static<typeof ConsoleEventSubList>;
