/**
 * Error codes of the OAuth console, the consent step and the public API.
 * (The token and revocation endpoints answer RFC 6749 `{error}` bodies instead.)
 * Permanent once shipped.
 */
export const oauthErrors = {
  OAUTH_APP_NOT_FOUND: 404,
  OAUTH_REDIRECT_URI_INVALID: 400,
  OAUTH_CLIENT_INVALID: 400,
  OAUTH_GRANT_NOT_FOUND: 404,
  OAUTH_SCOPE_INSUFFICIENT: 403,
  OAUTH_APP_TOKEN_REQUIRED: 403,
  OAUTH_USER_TOKEN_REQUIRED: 403,
} as const;
