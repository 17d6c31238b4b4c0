import { REFRESH_COOKIE, REFRESH_COOKIE_PATH, REFRESH_TRANSPORT_HEADER } from '@neon/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Reads the refresh cookie from a Cookie header without a parser dependency. */
export function refreshCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === REFRESH_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Non-browser clients opt into receiving the refresh token in the body. */
export function wantsBodyTransport(request: FastifyRequest): boolean {
  const value = request.headers[REFRESH_TRANSPORT_HEADER];
  return typeof value === 'string' && value.trim().toLowerCase() === 'body';
}

export function setRefreshCookie(
  reply: FastifyReply,
  token: string,
  expiresAt: Date,
  secure: boolean,
): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  void reply.header(
    'set-cookie',
    cookie(token, [`Max-Age=${maxAge}`, `Expires=${expiresAt.toUTCString()}`], secure),
  );
}

export function clearRefreshCookie(reply: FastifyReply, secure: boolean): void {
  void reply.header(
    'set-cookie',
    cookie('', ['Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT'], secure),
  );
}

function cookie(value: string, lifetime: string[], secure: boolean): string {
  return [
    `${REFRESH_COOKIE}=${value}`,
    `Path=${REFRESH_COOKIE_PATH}`,
    ...lifetime,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
