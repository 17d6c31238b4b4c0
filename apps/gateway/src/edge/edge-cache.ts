import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import { SizedCache } from '@neon/kit';

/** What the proxy hands over once it has a small, complete upstream answer (or null: none). */
export type Capture = (status: number, headers: OutgoingHttpHeaders, body: Buffer | null) => void;

interface Entry {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  expires: number;
}

/** The longest a segment stays here, whatever the origin says: live media is short-lived. */
const MAX_TTL_MS = 300_000;
/** `immutable` without `max-age`. */
const IMMUTABLE_TTL_MS = 60_000;

function ttlOf(headers: OutgoingHttpHeaders): number {
  const cc = headers['cache-control'];
  if (typeof cc !== 'string') return 0;
  const v = cc.toLowerCase();
  if (/(^|[,\s])(no-store|no-cache|private)([,\s=]|$)/.test(v)) return 0;
  const maxAge = /(?:^|[,\s])(?:s-maxage|max-age)=(\d+)/.exec(v);
  if (maxAge) return Math.min(Number(maxAge[1]) * 1000, MAX_TTL_MS);
  return v.includes('immutable') ? IMMUTABLE_TTL_MS : 0;
}

/**
 * The playback edge: media segments and parts the origin marks cacheable,
 * kept in memory up to a byte budget (oldest out first), and concurrent
 * misses for one URL coalesced into a single upstream request — a thousand
 * viewers asking for the part that was just announced cost the origin one.
 */
export class EdgeCache {
  private readonly entries: SizedCache<Entry>;
  private readonly inflight = new Map<string, Promise<Entry | null>>();

  constructor(maxBytes: number, maxEntryBytes = 8 * 1024 * 1024) {
    this.entries = new SizedCache<Entry>(maxBytes, (e) => e.body.length, maxEntryBytes);
  }

  /**
   * Answers from the cache, from a request already under way, or by running
   * `fetch` (the proxy) with a capture that fills the cache for the others.
   */
  async serve(
    key: string,
    reply: FastifyReply,
    fetch: (capture: Capture | undefined) => Promise<FastifyReply>,
  ): Promise<FastifyReply> {
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.expires > Date.now()) return this.send(reply, hit, 'HIT');
      this.entries.delete(key);
    }
    const pending = this.inflight.get(key);
    if (pending) {
      const shared = await pending;
      return shared ? this.send(reply, shared, 'COALESCED') : fetch(undefined);
    }
    let settle: (e: Entry | null) => void = () => undefined;
    this.inflight.set(key, new Promise<Entry | null>((r) => (settle = r)));
    try {
      return await fetch((status, headers, body) => {
        const ttl = status === 200 && body && !headers['set-cookie'] ? ttlOf(headers) : 0;
        const entry =
          ttl > 0 && body
            ? { status, headers: { ...headers }, body, expires: Date.now() + ttl }
            : null;
        settle(entry && this.store(key, entry) ? entry : null);
      });
    } finally {
      settle(null);
      this.inflight.delete(key);
    }
  }

  get size(): { entries: number; bytes: number } {
    return this.entries.size;
  }

  private send(reply: FastifyReply, entry: Entry, how: string): FastifyReply {
    return reply.code(entry.status).headers(entry.headers).header('x-cache', how).send(entry.body);
  }

  private store(key: string, entry: Entry): boolean {
    delete entry.headers['x-request-id'];
    delete entry.headers.date;
    return this.entries.set(key, entry);
  }
}
