import { timingSafeEqual } from 'node:crypto';
import {
  ClientHeaders,
  OAuthHeaders,
  STEP_UP_SECONDS,
  type PublicOperation,
  type Role,
} from '@neon/contracts';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

/** The caller as the gateway verified it. */
export interface Client {
  id: string;
  username: string;
  roles: Role[];
  /** The session (refresh family) the caller's token belongs to, when it names one. */
  sessionId?: string;
  /**
   * Only when the account has a second factor: when the session last checked
   * it (seconds since the epoch, 0 = not since sign-in).
   */
  stepUpAt?: number;
}

/** An OAuth access token on `/public/v1`, as the gateway verified it. */
export interface AppCaller {
  /** The application's client id. */
  clientId: string;
  scopes: ReadonlySet<string>;
  /** The user the token acts for; null for the application's own token. */
  user: Client | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    client: Client | null;
    /** Set only for an OAuth access token (on `/public/v1`). */
    oauth: AppCaller | null;
    /**
     * The client's address: the gateway's X-Client-Ip (its trusted-proxy
     * rule) on a request that came through it, else `request.ip`.
     */
    clientIp: string;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The platform roles in the gateway's `X-Client-Roles` header; anything else in it is dropped. */
export function parseRoles(header: string | string[] | undefined): Role[] {
  return (typeof header === 'string' ? header.split(',') : [])
    .map((r) => r.trim())
    .filter((r): r is Role => r === 'user' || r === 'admin');
}

/**
 * Reads the identity the gateway passed on. The `X-Client-*` headers count
 * only when the request also carries the deployment's internal secret, which
 * only the gateway holds: anything else reaching a service directly is
 * anonymous, whatever headers it sets.
 */
export function clientFromHeaders(
  headers: FastifyRequest['headers'],
  internalSecret: string,
): Client | null {
  const secret = headers[ClientHeaders.internalToken];
  if (typeof secret !== 'string' || !sameSecret(secret, internalSecret)) return null;
  const id = headers[ClientHeaders.id];
  const username = headers[ClientHeaders.username];
  if (typeof id !== 'string' || typeof username !== 'string' || !id || !username) return null;
  const roles = parseRoles(headers[ClientHeaders.roles]);
  const session = headers[ClientHeaders.session];
  const client: Client =
    typeof session === 'string' && session !== ''
      ? { id, username, roles, sessionId: session }
      : { id, username, roles };
  const stepUp = headers[ClientHeaders.stepUp];
  if (typeof stepUp === 'string' && /^\d{1,12}$/.test(stepUp)) client.stepUpAt = Number(stepUp);
  return client;
}

/**
 * The application behind an OAuth access token, when the gateway passed one.
 * A token acting for a user carries that user, but never the user's platform
 * roles: an application does not wield an admin's powers.
 */
export function oauthFromHeaders(
  headers: FastifyRequest['headers'],
  internalSecret: string,
  client: Client | null,
): AppCaller | null {
  if (!fromGateway(headers, internalSecret)) return null;
  const app = headers[OAuthHeaders.app];
  if (typeof app !== 'string' || app === '') return null;
  const scopes = headers[OAuthHeaders.scopes];
  return {
    clientId: app,
    scopes: new Set((typeof scopes === 'string' ? scopes : '').split(' ').filter(Boolean)),
    user: client ? { ...client, roles: ['user'] } : null,
  };
}

/**
 * The caller of a `/public/v1` operation, refused unless its token is of the
 * kind the operation takes and carries its scope.
 */
export function requireApp(
  request: FastifyRequest,
  o: Pick<PublicOperation, 'token' | 'scope'>,
): AppCaller {
  const caller = request.oauth;
  if (!caller) throw new AppError('AUTH_REQUIRED', 'Call /public/v1 with an OAuth access token.');
  if (o.token === 'user' && !caller.user)
    throw new AppError(
      'OAUTH_USER_TOKEN_REQUIRED',
      'This needs a token acting for a user (authorization code), not an app token.',
    );
  if (o.scope && !caller.scopes.has(o.scope))
    throw new AppError('OAUTH_SCOPE_INSUFFICIENT', `This needs the ${o.scope} scope.`);
  return caller;
}

/** `requireApp` for an operation that acts for a user: that user. */
export function requireAppUser(request: FastifyRequest, o: Pick<PublicOperation, 'scope'>): Client {
  return requireApp(request, { token: 'user', scope: o.scope }).user!;
}

/** Whether a request came through the gateway (identity or not). */
export function fromGateway(headers: FastifyRequest['headers'], internalSecret: string): boolean {
  const secret = headers[ClientHeaders.internalToken];
  return typeof secret === 'string' && sameSecret(secret, internalSecret);
}

/** Headers the gateway (or a test) sets to act as `client`. */
export function clientHeaders(client: Client, internalSecret: string): Record<string, string> {
  return {
    [ClientHeaders.internalToken]: internalSecret,
    [ClientHeaders.id]: client.id,
    [ClientHeaders.username]: client.username,
    [ClientHeaders.roles]: client.roles.join(','),
    ...(client.sessionId ? { [ClientHeaders.session]: client.sessionId } : {}),
    ...(client.stepUpAt !== undefined ? { [ClientHeaders.stepUp]: String(client.stepUpAt) } : {}),
  };
}

/** Headers the gateway (or a test) sets for an OAuth access token: an app's own, or one acting for `user`. */
export function appHeaders(
  token: { clientId: string; scopes: readonly string[]; user?: Client },
  internalSecret: string,
): Record<string, string> {
  return {
    ...(token.user
      ? clientHeaders(token.user, internalSecret)
      : { [ClientHeaders.internalToken]: internalSecret }),
    [OAuthHeaders.app]: token.clientId,
    [OAuthHeaders.scopes]: token.scopes.join(' '),
  };
}

/** Whether the caller's account has a second factor and checked it within STEP_UP_SECONDS. */
export function steppedUp(client: Client, now = Date.now()): boolean {
  return client.stepUpAt !== undefined && now / 1000 - client.stepUpAt <= STEP_UP_SECONDS;
}

/**
 * For sensitive actions (stream key, password, factors): when the caller's
 * account has a second factor, its session must have checked it within the
 * last STEP_UP_SECONDS. An account without one passes.
 */
export function requireStepUp(request: FastifyRequest, now = Date.now()): Client {
  const client = requireUser(request);
  if (client.stepUpAt !== undefined && !steppedUp(client, now))
    throw new AppError(
      'AUTH_STEP_UP_REQUIRED',
      'Confirm it is you with your second factor, then try again.',
    );
  return client;
}

export function requireUser(request: FastifyRequest): Client {
  // A third-party application's token reaches /public/v1 only; should one get here, it is
  // not the user's own session.
  if (request.oauth)
    throw new AppError('FORBIDDEN', 'An OAuth access token is for /public/v1 only.');
  if (!request.client) throw new AppError('AUTH_REQUIRED', 'Sign in to do this.');
  return request.client;
}

export function requireRole(request: FastifyRequest, role: Role): Client {
  const client = requireUser(request);
  if (!client.roles.includes(role)) throw new AppError('FORBIDDEN', `Requires the ${role} role.`);
  return client;
}
