import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { isUsername } from '@neon/contracts';
import { requestIdOf } from '@neon/kit';
import type { Broadcast } from '../broadcasts/broadcast.js';
import type { LivePipeline } from '../broadcasts/pipeline.js';
import { CACHE_IMMUTABLE, isSafeName } from './media-types.js';
import { CORS } from './origin.routes.js';

/**
 * The answer headers of one immutable body, built once per body (parts and
 * segments are requested by every player, the same bytes each time). Keyed
 * by the body itself, so they go when the pipeline drops it.
 */
const headerCache = new WeakMap<Uint8Array, string[]>();

function headersOf(body: Uint8Array, contentType: string): string[] {
  let h = headerCache.get(body);
  if (h === undefined) {
    h = [
      ...Object.entries(CORS).flat(),
      'content-type',
      contentType,
      'content-length',
      String(body.byteLength),
      'cache-control',
      CACHE_IMMUTABLE,
      'x-request-id',
      '',
    ];
    headerCache.set(body, h);
  }
  return h;
}

/**
 * Answers `GET /hls|dash/<channel>/<rendition>/<file>` for a part, segment or
 * init segment the pipeline holds in memory, before Fastify sees the request:
 * the same status, headers and bytes as the route, without routing, hooks,
 * validation, a child logger or an abort signal. Anything else (a query, a
 * playlist, a part still to come, a segment on disk, any error) returns false
 * and takes the routes.
 */
/** What the fast path reads of the broadcasts (the BroadcastManager). */
export interface LiveBroadcasts {
  /** The live broadcast, or one that just ended cleanly and is still served. */
  serving(channel: string):
    | (Pick<Broadcast, 'state'> & {
        pipeline: Pick<LivePipeline, 'resourceNow'> | null;
      })
    | null;
}

export function mediaFastPath(
  broadcasts: LiveBroadcasts,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined) return false;
    let start: number;
    if (url.startsWith('/hls/')) start = 5;
    else if (url.startsWith('/dash/')) start = 6;
    else return false;
    // Percent-escapes and queries take the routes (decoding and validation live there).
    if (url.includes('?') || url.includes('%')) return false;
    const a = url.indexOf('/', start);
    const b = a < 0 ? -1 : url.indexOf('/', a + 1);
    if (b < 0 || url.indexOf('/', b + 1) >= 0) return false;
    const channel = url.slice(start, a);
    const rendition = url.slice(a + 1, b);
    const file = url.slice(b + 1);
    if (file.endsWith('.m3u8') || !isSafeName(rendition) || !isSafeName(file)) return false;
    if (!isUsername(channel)) return false;
    const broadcast = broadcasts.serving(channel);
    if (!broadcast?.pipeline || broadcast.state === 'publishing') return false;
    const found = broadcast.pipeline.resourceNow(rendition, file);
    if (found === null) return false;
    const headers = headersOf(found.body, found.contentType);
    headers[headers.length - 1] = requestIdOf(req);
    res.writeHead(200, headers);
    res.end(found.body);
    return true;
  };
}

/**
 * Puts `fast` in front of the server's request listener (Fastify's): a request
 * it does not answer goes on unchanged. While the server closes, every request
 * goes to Fastify, which answers 503 and closes the connection.
 */
export function serveFirst(
  server: Server,
  fast: (req: IncomingMessage, res: ServerResponse) => boolean,
): { closing: () => void } {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) throw new Error('expected one request listener');
  const next = listeners[0]!;
  let closing = false;
  server.removeListener('request', next);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing || !fast(req, res)) next(req, res);
  });
  return {
    closing: () => {
      closing = true;
    },
  };
}
