import type { ErrorCode, Problem } from '@neon/contracts';

/** An API failure reduced to what the UI shows: a stable code, a sentence, per-field messages. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  fields: Record<string, string>;
}

const messages: Partial<Record<ErrorCode | 'NETWORK', string>> = {
  NETWORK: 'Cannot reach Neon. Check your connection and try again.',
  VALIDATION_FAILED: 'Some fields are not valid.',
  AUTH_REQUIRED: 'Please log in first.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'Not found.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  INTERNAL: 'Something went wrong on our side. Try again.',
  BAD_GATEWAY: 'A Neon service is unavailable. Try again shortly.',
  SERVICE_UNAVAILABLE: 'A Neon service is unavailable. Try again shortly.',
  GATEWAY_UPSTREAM_UNAVAILABLE: 'A Neon service is unavailable. Try again shortly.',
  GATEWAY_UPSTREAM_TIMEOUT: 'A Neon service took too long to answer. Try again.',
  AUTH_INVALID_CREDENTIALS: 'Wrong username, email or password.',
  AUTH_ACCOUNT_SUSPENDED: 'This account is suspended.',
  AUTH_LOGIN_THROTTLED: 'Several wrong passwords for this account. Wait a moment and try again.',
  AUTH_ACCOUNT_LOCKED: 'Too many wrong passwords: this account is locked for 15 minutes.',
  AUTH_USERNAME_TAKEN: 'This username is taken.',
  AUTH_USERNAME_RESERVED: 'This username is reserved for Neon. Pick another one.',
  AUTH_EMAIL_TAKEN: 'An account with this email already exists.',
  AUTH_PASSWORD_TOO_COMMON: 'This password is too common. Pick something less guessable.',
  AUTH_PASSWORD_WRONG: 'The current password is wrong.',
  AUTH_TOKEN_EXPIRED: 'Your session expired. Please log in again.',
  AUTH_TOKEN_INVALID: 'Your session is no longer valid. Please log in again.',
  AUTH_REFRESH_INVALID: 'Your session expired. Please log in again.',
  AUTH_REFRESH_REUSED: 'Your session was ended for safety. Please log in again.',
  USER_NOT_FOUND: 'No such user.',
  MFA_CODE_INVALID: 'That code is wrong or was already used. Try the next one from your app.',
  MFA_CHALLENGE_INVALID: 'This sign-in took too long or too many tries. Log in again.',
  MFA_THROTTLED: 'Too many wrong codes. Wait a moment and try again.',
  AUTH_STEP_UP_REQUIRED: 'Confirm it’s you with a code from your authenticator app.',
  AUTH_MFA_REQUIRED: 'Set up two-factor authentication (Settings → Security) to use this.',
  MFA_ALREADY_ENABLED: 'An authenticator app is already set up.',
  MFA_NOT_ENABLED: 'No authenticator app is set up.',
  AUTH_EMAIL_TOKEN_INVALID: 'This link does not work any more. Ask for a new one.',
  AUTH_EMAIL_THROTTLED: 'Several mails were sent already. Wait a few minutes before asking again.',
  AUTH_EMAIL_ALREADY_VERIFIED: 'Your email address is confirmed already.',
  AUTH_EMAIL_UNCHANGED: 'This is your address already.',
  ADMIN_SELF_ACTION: 'You cannot do that to your own account.',
  LIVE_CHANNEL_NOT_FOUND: 'No such channel.',
  LIVE_NOT_LIVE: 'This channel is offline.',
  LIVE_VIDEO_NOT_FOUND: 'This video does not exist or was deleted.',
  CHANNELS_CHANNEL_NOT_FOUND: 'No such channel.',
  CHANNELS_CATEGORY_NOT_FOUND: 'No such category.',
  CHANNELS_USER_NOT_FOUND: 'There is no user with that name.',
  CHANNELS_FOLLOW_SELF: 'You cannot follow your own channel.',
  CHANNELS_ROLE_SELF: 'You already hold every right on your own channel.',
  CHANNELS_CURSOR_INVALID: 'This list changed. Reload the page.',
  CHAT_ROOM_NOT_FOUND: 'This chat room does not exist.',
  CHAT_AUTH_REQUIRED: 'Log in to chat.',
  CHAT_BODY_EMPTY: 'Type a message first.',
  CHAT_BODY_TOO_LONG: 'That message is too long.',
  CHAT_INVALID_MESSAGE: 'That message could not be sent.',
  CHAT_RATE_LIMITED: 'You are sending messages too quickly.',
  CHAT_SLOW_MODE: 'Slow mode is on: wait a little before your next message.',
  CHAT_TIMED_OUT: 'You are timed out in this chat.',
  CHAT_BANNED: 'You are banned from this chat.',
  CHAT_FOLLOWERS_ONLY: 'Only followers can chat right now.',
  CHAT_SUBSCRIBERS_ONLY: 'Only subscribers can chat right now.',
  CHAT_NOT_MODERATOR: 'Only moderators can do that.',
  CHAT_MESSAGE_NOT_FOUND: 'That message no longer exists.',
  CHAT_TOO_MANY_JOINS: 'Too many chat rooms are open here: close one and try again.',
  CHAT_NOT_JOINED: 'Not connected to the chat yet.',
  OAUTH_APP_NOT_FOUND: 'This application no longer exists. Reload the page.',
  OAUTH_REDIRECT_URI_INVALID: 'A redirect URI is not valid.',
  OAUTH_CLIENT_INVALID: 'No application has this client id.',
  OAUTH_GRANT_NOT_FOUND: 'This app is no longer connected to your account.',
  EVENTSUB_SUBSCRIPTION_NOT_FOUND: 'This webhook no longer exists. Refresh the list.',
  PAYMENTS_PROVIDER_DISABLED: 'Subscriptions are not available on this Neon server.',
  PAYMENTS_PROVIDER_UNAVAILABLE:
    'The payment provider did not answer. Nothing was charged or changed: try again.',
  PAYMENTS_ALREADY_SUBSCRIBED: 'You are subscribed to this channel already.',
  PAYMENTS_SUBSCRIBE_SELF: 'You cannot subscribe to your own channel.',
  PAYMENTS_SUBSCRIPTION_NOT_FOUND: 'This subscription has ended. Reload the page to see it.',
  PAYMENTS_CHANNEL_NOT_FOUND: 'No such channel.',
};

/** A readable sentence for an error code; unknown codes still say something useful. */
export function messageFor(code: string, fallback?: string): string {
  return (
    (messages as Record<string, string | undefined>)[code] ??
    fallback ??
    `Something went wrong (${code}).`
  );
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && typeof (value as Problem).code === 'string';
}

/** Turns whatever a failed request produced into an ApiError. */
export function toApiError(status: number | string, body: unknown): ApiError {
  if (typeof status !== 'number') {
    return { status: 0, code: 'NETWORK', message: messageFor('NETWORK'), fields: {} };
  }
  if (!isProblem(body)) {
    const code = status >= 500 ? 'INTERNAL' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    return { status, code, message: messageFor(code), fields: {} };
  }
  const fields: Record<string, string> = {};
  for (const e of body.errors ?? []) {
    // Validators report paths like "/email", "body/email" or "body.links.2"; the form knows the
    // bare name ("links") and, for an item of a list, also "links.2".
    const parts = e.field.split(/[/.]/).filter(Boolean);
    while (parts.length > 1 && /^\d+$/.test(parts[parts.length - 1] ?? '')) {
      const item = `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
      if (!fields[item]) fields[item] = e.message;
      parts.pop();
    }
    const name = parts[parts.length - 1] ?? '';
    if (name && !fields[name]) fields[name] = e.message;
  }
  return { status, code: body.code, message: messageFor(body.code, body.detail), fields };
}

export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiError).code === 'string' &&
    typeof (value as ApiError).message === 'string'
  );
}

/** The sentence to show for an unknown failure from a hook's `error`. */
export function errorText(error: unknown): string {
  return isApiError(error) ? error.message : messageFor('INTERNAL');
}

/**
 * A form that leaves blank rows out of a list names the server's item errors
 * ("redirectUris.1", the second item sent) by the row the user sees it in:
 * `rows[i]` is the row of the i-th item sent. Other keys pass through.
 */
export function fieldsByRow(
  fields: Record<string, string>,
  list: string,
  rows: readonly number[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(fields)) {
    const item = key.startsWith(`${list}.`) ? key.slice(list.length + 1) : '';
    out[/^\d+$/.test(item) ? `${list}.${rows[Number(item)] ?? Number(item)}` : key] = message;
  }
  return out;
}
