import {
  CSRF_HEADER,
  REFRESH_COOKIE,
  REFRESH_COOKIE_PATH,
  REFRESH_COOKIE_SECURE,
  REFRESH_TRANSPORT_HEADER,
} from '@neon/contracts';
import { AppError } from '@neon/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The refresh cookie's shape for the deployment: over https a `__Host-`
 * cookie (Secure, Path=/, no Domain); over plain http, where browsers keep
 * neither, a plain name scoped to the auth path.
 */
export interface CookiePolicy {
  secure: boolean;
  /** PUBLIC_URL's origin: the only one whose pages may use the cookie. */
  origin: string;
}

export function cookiePolicy(publicUrl: string): CookiePolicy {
  const url = new URL(publicUrl);
  return { secure: url.protocol === 'https:', origin: url.origin };
}

const nameOf = (policy: CookiePolicy) => (policy.secure ? REFRESH_COOKIE_SECURE : REFRESH_COOKIE);

/**
 * Reads the refresh cookie from a Cookie header without a parser dependency.
 * Over https only the `__Host-` name counts: a plain-named one could have been
 * planted by another host.
 */
export function refreshCookie(request: FastifyRequest, policy: CookiePolicy): string | undefined {
  return readCookie(request, nameOf(policy));
}

/** The browser's device cookie (known-devices.ts), named as the refresh cookie is. */
export function deviceCookie(request: FastifyRequest, policy: CookiePolicy): string | undefined {
  return readCookie(request, deviceNameOf(policy));
}

/** Set with every session a browser starts; it outlives sessions (about as long as browsers keep one). */
export function setDeviceCookie(reply: FastifyReply, deviceId: string, policy: CookiePolicy): void {
  void reply.header(
    'set-cookie',
    cookie(deviceNameOf(policy), deviceId, [`Max-Age=${DEVICE_COOKIE_MAX_AGE}`], policy),
  );
}

const DEVICE_COOKIE = 'neon_device';
const DEVICE_COOKIE_SECURE = '__Host-neon_device';
/** 400 days: the longest a browser keeps a cookie. */
const DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600;
const deviceNameOf = (policy: CookiePolicy) =>
  policy.secure ? DEVICE_COOKIE_SECURE : DEVICE_COOKIE;

function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Non-browser clients opt into receiving the refresh token in the body. */
export function wantsBodyTransport(request: FastifyRequest): boolean {
  const value = request.headers[REFRESH_TRANSPORT_HEADER];
  return typeof value === 'string' && value.trim().toLowerCase() === 'body';
}

/**
 * Cross-site request forgery guard for the endpoints that set or read the
 * refresh cookie. A browser sends `Origin` on every POST, so:
 *
 * - an `Origin` other than PUBLIC_URL's (`null` included: sandboxed frames,
 *   `data:` pages) is refused, whatever the request carries;
 * - a request the cookie authenticates (`readsCookie`) without `Origin` must
 *   carry `X-Requested-With`, which no other page can add without a CORS
 *   grant: a non-browser client sends it, or uses the body transport, where no
 *   ambient credential is at stake.
 */
export function checkOrigin(
  request: FastifyRequest,
  policy: CookiePolicy,
  readsCookie: boolean,
): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (origin === policy.origin) return;
    throw new AppError(
      'AUTH_ORIGIN_REFUSED',
      `Sign-in requests are accepted from ${policy.origin} only.`,
    );
  }
  const marker = request.headers[CSRF_HEADER];
  if (readsCookie && (typeof marker !== 'string' || marker.trim() === '')) {
    throw new AppError(
      'AUTH_ORIGIN_REFUSED',
      `A request that uses the refresh cookie needs an Origin header or ${CSRF_HEADER}.`,
    );
  }
}

export function setRefreshCookie(
  reply: FastifyReply,
  token: string,
  expiresAt: Date,
  policy: CookiePolicy,
): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  void reply.header(
    'set-cookie',
    cookie(
      nameOf(policy),
      token,
      [`Max-Age=${maxAge}`, `Expires=${expiresAt.toUTCString()}`],
      policy,
    ),
  );
}

export function clearRefreshCookie(reply: FastifyReply, policy: CookiePolicy): void {
  void reply.header(
    'set-cookie',
    cookie(nameOf(policy), '', ['Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT'], policy),
  );
}

/** Identity's cookies: for the auth path only over http, `__Host-` rules over https. */
function cookie(name: string, value: string, lifetime: string[], policy: CookiePolicy): string {
  return [
    `${name}=${value}`,
    `Path=${policy.secure ? '/' : REFRESH_COOKIE_PATH}`,
    ...lifetime,
    'HttpOnly',
    'SameSite=Strict',
    ...(policy.secure ? ['Secure'] : []),
  ].join('; ');
}
