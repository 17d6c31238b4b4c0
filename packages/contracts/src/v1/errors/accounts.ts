/** Error codes of second factors, email flows, sessions and account lifecycle. Permanent once shipped. */
export const accountErrors = {
  /** The second-factor code is wrong, expired or already used. */
  MFA_CODE_INVALID: 400,
  /** The sign-in challenge is unknown, expired, used or tried too often: sign in again. */
  MFA_CHALLENGE_INVALID: 401,
  /** Too many wrong second-factor codes for this account; wait (Retry-After). */
  MFA_THROTTLED: 429,
  /** The action needs a second-factor check within the last 10 minutes. */
  AUTH_STEP_UP_REQUIRED: 403,
  /** The admin API needs an account with a second factor. */
  AUTH_MFA_REQUIRED: 403,
  /** A TOTP authenticator is already enrolled. */
  MFA_ALREADY_ENABLED: 409,
  /** There is no such factor (or no enrolment in progress). */
  MFA_NOT_ENABLED: 409,
  /** No live session with that id among the caller's own (someone else's answers the same). */
  AUTH_SESSION_NOT_FOUND: 404,
  /** The emailed link (password reset or verification) is unknown, expired or already used. */
  AUTH_EMAIL_TOKEN_INVALID: 400,
  /** Too many reset or verification mails asked for one address or account; wait (Retry-After). */
  AUTH_EMAIL_THROTTLED: 429,
  /** The account's address is verified already: no mail to send. */
  AUTH_EMAIL_ALREADY_VERIFIED: 409,
  /** The new address asked for is the account's address already. */
  AUTH_EMAIL_UNCHANGED: 400,
} as const;
