import { timingSafeEqual } from 'node:crypto';
import { ClientHeaders, type Role } from '@neon/contracts';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

/** The caller as the gateway verified it. */
export interface Client {
  id: string;
  username: string;
  roles: Role[];
  /** The session (refresh family) the caller's token belongs to, when it names one. */
  sessionId?: string;
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
  return typeof session === 'string' && session !== ''
    ? { id, username, roles, sessionId: session }
    : { id, username, roles };
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
  };
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
