/** Error codes of the payments domain (prefix PAYMENTS_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const paymentsErrors = {
  /** The webhook has no signature header, or it cannot be read. */
  PAYMENTS_SIGNATURE_MISSING: 400,
  /** No signature in the header matches the body with a configured secret. */
  PAYMENTS_SIGNATURE_INVALID: 400,
  /** The signed timestamp is outside the tolerance (a replay or a clock far off). */
  PAYMENTS_TIMESTAMP_OUTSIDE_TOLERANCE: 400,
  /** The verified body is not a provider event (JSON object with an id and a type). */
  PAYMENTS_EVENT_MALFORMED: 400,
  /** This provider is not configured on this deployment (no secret set). */
  PAYMENTS_PROVIDER_DISABLED: 404,
  /** A user tried to subscribe to their own channel. */
  PAYMENTS_SUBSCRIBE_SELF: 400,
  /** The user already has a subscription to this channel that gives the benefits. */
  PAYMENTS_ALREADY_SUBSCRIBED: 409,
  /** No such subscription of this user. */
  PAYMENTS_SUBSCRIPTION_NOT_FOUND: 404,
  /** The channel is not known to payments (no such user). */
  PAYMENTS_CHANNEL_NOT_FOUND: 404,
  /** The payment provider could not be reached or refused the request. */
  PAYMENTS_PROVIDER_UNAVAILABLE: 502,
} as const;
