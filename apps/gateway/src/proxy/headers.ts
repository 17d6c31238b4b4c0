import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { ClientHeaders } from '@neon/contracts';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, not the message. */
export const HOP_BY_HOP = new Set([
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

/** The options of a Connection field value, lower-cased (`close`, `keep-alive`, or field names). */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const token of value.toLowerCase().split(',')) {
    const t = token.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

/** The fields a request's Connection header names: for this hop only (RFC 9110 §7.6.1). */
function namedByConnection(headers: IncomingHttpHeaders): Set<string> | null {
  const c = headers.connection;
  if (!c || c === 'keep-alive' || c === 'close') return null;
  return new Set(connectionTokens(c));
}

/** Removes from a flat `[name, value, …]` list, in place, the fields named in `names`. */
export function dropNamed(list: string[], names: readonly string[]): void {
  let to = 0;
  for (let i = 0; i < list.length; i += 2) {
    if (names.includes(list[i]!)) continue;
    list[to++] = list[i]!;
    list[to++] = list[i + 1]!;
  }
  list.length = to;
}

export interface ForwardInfo {
  requestId: string;
  /** Who connected to the gateway (a load balancer, or the client): appended to X-Forwarded-For, as every proxy does. */
  peerIp: string;
  /** The client's address by the trusted-proxy rule: passed on as X-Client-Ip. */
  clientIp: string;
  /** The peer is a trusted proxy: the X-Forwarded-For it sent is kept; a client's own is not. */
  trustPeer: boolean;
  proto: string;
  /** Set last, so nothing the client sent can replace them. */
  identity: Record<string, string>;
}

/**
 * A bearer token the gateway verified has done its work: upstreams trust the
 * X-Client-* identity instead and never see the token (a smaller request and
 * one less place a token could leak from). Other schemes pass untouched.
 */
function isBearer(value: string | string[] | undefined): boolean {
  return typeof value === 'string' && value.length > 7 && /^bearer /i.test(value);
}

/** The request headers an upstream receives. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  info: ForwardInfo,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = namedByConnection(headers);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || isClientAsserted(name)) continue;
    if (named?.has(name)) continue;
    if (name === 'authorization' && isBearer(value)) continue;
    out[name] = value;
  }
  const prior = info.trustPeer ? headers['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${info.peerIp}` : info.peerIp;
  out[ClientHeaders.ip] = info.clientIp;
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

/**
 * The same headers as `upstreamRequestHeaders`, as undici's flat
 * `[name, value, …]` list: no object with per-request keys to build.
 */
export function upstreamRequestHeaderList(
  headers: IncomingHttpHeaders,
  info: ForwardInfo,
  contentLength: number | null,
): string[] {
  const out: string[] = [];
  const named = namedByConnection(headers);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || isClientAsserted(name)) continue;
    if (named?.has(name)) continue;
    if (name === 'x-forwarded-for' || name === 'x-forwarded-proto' || name === 'x-request-id')
      continue;
    if (name === 'x-forwarded-host' || (contentLength !== null && name === 'content-length'))
      continue;
    if (name === 'authorization' && isBearer(value)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  const prior = info.trustPeer ? headers['x-forwarded-for'] : undefined;
  out.push(
    'x-forwarded-for',
    prior ? `${String(prior)}, ${info.peerIp}` : info.peerIp,
    ClientHeaders.ip,
    info.clientIp,
    'x-forwarded-proto',
    info.proto,
  );
  if (headers.host) out.push('x-forwarded-host', headers.host);
  else if (headers['x-forwarded-host'] !== undefined)
    out.push('x-forwarded-host', String(headers['x-forwarded-host']));
  out.push('x-request-id', info.requestId);
  if (contentLength !== null) out.push('content-length', String(contentLength));
  for (const name in info.identity) out.push(name, info.identity[name]!);
  return out;
}
