import { timingSafeEqual } from 'node:crypto';
import { ClientHeaders, STEP_UP_SECONDS, type Role } from '@neon/contracts';
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

declare module 'fastify' {
  interface FastifyRequest {
    client: Client | null;
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
  const rolesHeader = headers[ClientHeaders.roles];
  const roles = (typeof rolesHeader === 'string' ? rolesHeader.split(',') : [])
    .map((r) => r.trim())
    .filter((r): r is Role => r === 'user' || r === 'admin');
  const session = headers[ClientHeaders.session];
  const client: Client =
    typeof session === 'string' && session !== ''
      ? { id, username, roles, sessionId: session }
      : { id, username, roles };
  const stepUp = headers[ClientHeaders.stepUp];
  if (typeof stepUp === 'string' && /^\d{1,12}$/.test(stepUp)) client.stepUpAt = Number(stepUp);
  return client;
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
  if (!request.client) throw new AppError('AUTH_REQUIRED', 'Sign in to do this.');
  return request.client;
}

export function requireRole(request: FastifyRequest, role: Role): Client {
  const client = requireUser(request);
  if (!client.roles.includes(role)) throw new AppError('FORBIDDEN', `Requires the ${role} role.`);
  return client;
}
