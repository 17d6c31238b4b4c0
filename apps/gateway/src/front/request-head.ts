import type { IncomingHttpHeaders } from 'node:http';
import { MAX_HEADERS } from './head-rules.js';

/** The largest head the front reads itself: node's default `maxHeaderSize`, so a longer one gets node's 431. */
export const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * The request line the front reads itself: a bodiless method, an origin-form
 * target of visible ASCII, HTTP/1.1 exactly, single spaces.
 */
const REQUEST_LINE = /^(GET|HEAD|DELETE) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
/** `field-name ":" OWS field-value OWS` with a token name and visible ASCII, spaces and tabs only. */
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e]*)$/;
/** Whatever would make the request anything but a head with nothing after it. */
const NOT_OURS = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);

export interface RequestHead {
  method: 'GET' | 'HEAD' | 'DELETE';
  url: string;
  /** Lower-cased names, each once. */
  headers: IncomingHttpHeaders;
  /** Offset just past the blank line: where the next request starts. */
  end: number;
  /** False when the client sent `Connection: close`. */
  keepAlive: boolean;
}

/**
 * Reads one request head from the start of `buf`, for the fast path only.
 *
 * It accepts a strict subset of HTTP/1.1 (RFC 9112) on purpose: a bodiless
 * method, no Content-Length, Transfer-Encoding, Upgrade or Expect, each header
 * once, CRLF line ends, no obs-fold, no control or non-ASCII bytes, a Host.
 * Inside that subset a request's end is the first blank line, which every
 * parser agrees on, so nothing can be smuggled past the gateway or its
 * upstreams. Anything outside it is `null` and the connection goes to node's
 * own parser, which answers or refuses it as it always did; `'partial'` means
 * the head is not all here yet.
 */
export function readRequestHead(buf: Buffer): RequestHead | 'partial' | null {
  const at = buf.indexOf(HEAD_END);
  if (at < 0)
    // A bare LF or CR never ends in CRLF CRLF: node refuses it at once rather than waiting.
    return buf.length >= MAX_HEAD_BYTES || hasBareLineEnd(buf) ? null : 'partial';
  if (at > MAX_HEAD_BYTES) return null;
  const head = buf.toString('latin1', 0, at);
  let eol = head.indexOf('\r\n');
  const line = REQUEST_LINE.exec(eol < 0 ? head : head.slice(0, eol));
  if (!line) return null;
  const headers: IncomingHttpHeaders = {};
  let keepAlive = true;
  let count = 0;
  while (eol >= 0) {
    // Past the limit node's side answers 431.
    if (++count > MAX_HEADERS) return null;
    const from = eol + 2;
    eol = head.indexOf('\r\n', from);
    const field = FIELD.exec(eol < 0 ? head.slice(from) : head.slice(from, eol));
    if (!field) return null;
    const name = field[1]!.toLowerCase();
    if (headers[name] !== undefined || NOT_OURS.has(name)) return null;
    // Only spaces and tabs can be white space here: trim() strips exactly the OWS.
    const value = field[2]!.trim();
    if (name === 'connection') {
      const tokens = value.toLowerCase().split(',');
      for (const token of tokens) {
        const t = token.trim();
        if (t === 'close') keepAlive = false;
        else if (t === 'upgrade') return null;
      }
    }
    headers[name] = value;
  }
  if (headers.host === undefined) return null;
  return {
    method: line[1] as RequestHead['method'],
    url: line[2]!,
    headers,
    end: at + 4,
    keepAlive,
  };
}

/** An LF not after a CR, or a CR followed by anything but an LF. */
function hasBareLineEnd(buf: Buffer): boolean {
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1))
    if (i === 0 || buf[i - 1] !== 0x0d) return true;
  for (let i = buf.indexOf(0x0d); i >= 0 && i + 1 < buf.length; i = buf.indexOf(0x0d, i + 1))
    if (buf[i + 1] !== 0x0a) return true;
  return false;
}
