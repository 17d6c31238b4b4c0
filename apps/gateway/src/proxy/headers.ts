import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { ClientHeaders } from '@neon/contracts';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, not the message. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);

/** Identity the gateway asserts; a client must never set it. */
export function isClientAsserted(name: string): boolean {
  return name.startsWith('x-client-') || name === ClientHeaders.internalToken;
}

function connectionTokens(headers: IncomingHttpHeaders): Set<string> | null {
  const c = headers.connection;
  if (!c || c === 'keep-alive' || c === 'close') return null;
  return new Set(c.split(',').map((t) => t.trim().toLowerCase()));
}

export interface ForwardInfo {
  requestId: string;
  clientIp: string;
  proto: string;
  /** Set last, so nothing the client sent can replace them. */
  identity: Record<string, string>;
}

/** The request headers an upstream receives. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  info: ForwardInfo,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionTokens(headers);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || isClientAsserted(name)) continue;
    if (named?.has(name)) continue;
    out[name] = value;
  }
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${info.clientIp}` : info.clientIp;
  out['x-forwarded-proto'] = info.proto;
  if (headers.host) out['x-forwarded-host'] = headers.host;
  out['x-request-id'] = info.requestId;
  for (const name in info.identity) out[name] = info.identity[name]!;
  return out;
}

/** The response headers the client receives from an upstream answer. */
export function downstreamResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}
