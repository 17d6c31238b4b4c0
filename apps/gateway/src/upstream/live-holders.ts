import type { Redis } from 'ioredis';
import { LIVE_HOLDERS_KEY, parseLiveHolder } from '@neon/contracts';
import type { Logger } from '@neon/kit';
import type { RouteContext } from './policy.js';

const CHANNEL = /^[a-z0-9_]{3,25}$/;
/** Where a live path names its channel: playlists and media, and the live thumbnail. */
const CHANNEL_PATH = /^\/(?:hls|dash)\/([^/?]+)\/|^\/thumbnails\/([^/?.]+)\.jpg(?:\?|$)/;
/** The streamer's own broadcast (settings with its ingest figures, ending it, a new key ending it). */
const OWN_STREAM_PATH = /^\/api\/v1\/me\/stream(?:-key)?(?:[/?]|$)/;

/**
 * Which live replica holds each channel's broadcast, as the live replicas
 * record it in Redis: read whole at start and every `refreshMs`, and per
 * channel whenever a replica announces a change. Requests for a channel's
 * playlists, media and thumbnail, and its owner's stream requests, go to
 * that replica; the others would answer that the channel is not live.
 */
export class LiveHolderDirectory {
  private byChannel = new Map<string, string>();
  private subscriber: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: { redis: Redis; logger: Logger; refreshMs: number }) {}

  async start(): Promise<void> {
    const sub = this.o.redis.duplicate();
    this.subscriber = sub;
    sub.on('message', (_topic: string, channel: string) => void this.refreshOne(channel));
    sub.on('error', (err: unknown) =>
      this.o.logger.warn({ err }, 'live holder announcements unavailable; reading them on a timer'),
    );
    await sub.subscribe(`${this.o.redis.options.keyPrefix ?? ''}${LIVE_HOLDERS_KEY}`);
    await this.refreshAll();
    this.timer = setInterval(() => void this.refreshAll(), this.o.refreshMs);
    this.timer.unref();
  }

  /** The origin of the replica holding the channel, or null when none is known. */
  holder(channel: string): string | null {
    return this.byChannel.get(channel) ?? null;
  }

  /** The replica a live request should reach, or null when any will do. */
  route(context: RouteContext): string | null {
    if (context.service !== 'live') return null;
    const m = CHANNEL_PATH.exec(context.path);
    const channel = m
      ? (m[1] ?? m[2])
      : OWN_STREAM_PATH.test(context.path)
        ? context.username
        : undefined;
    return channel && CHANNEL.test(channel) ? this.holder(channel) : null;
  }

  private async refreshAll(): Promise<void> {
    try {
      const all = await this.o.redis.hgetall(LIVE_HOLDERS_KEY);
      const next = new Map<string, string>();
      for (const [channel, value] of Object.entries(all)) {
        const origin = originOf(value);
        if (origin) next.set(channel, origin);
      }
      this.byChannel = next;
    } catch (err) {
      this.o.logger.warn({ err }, 'could not read which live replica holds which channel');
    }
  }

  private async refreshOne(channel: string): Promise<void> {
    try {
      const origin = originOf(await this.o.redis.hget(LIVE_HOLDERS_KEY, channel));
      if (origin) this.byChannel.set(channel, origin);
      else this.byChannel.delete(channel);
    } catch (err) {
      this.o.logger.warn({ err, channel }, 'could not read which live replica holds a channel');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.subscriber?.disconnect();
    this.subscriber = null;
  }
}

function originOf(value: string | null): string | null {
  const holder = parseLiveHolder(value);
  if (!holder) return null;
  try {
    return new URL(holder.replica).origin;
  } catch {
    return null;
  }
}
