import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Distinct players seen per channel within a sliding window. A player is
 * identified by the `?v=<playerId>` query it puts on playlist requests, or by
 * a hash of IP and User-Agent when it sends none.
 */
export interface ViewerCounter {
  touch(channel: string, player: string, now?: number): Promise<void>;
  count(channel: string, now?: number): Promise<number>;
  forget(channel: string): Promise<void>;
}

const PLAYER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The player's identity for counting; hashed so no IP is ever stored. */
export function playerIdentity(query: string | undefined, ip: string, userAgent: string): string {
  if (query && PLAYER_ID.test(query)) return `v:${query}`;
  return `h:${createHash('sha256').update(`${ip}\n${userAgent}`).digest('base64url').slice(0, 22)}`;
}

export class MemoryViewerCounter implements ViewerCounter {
  private readonly channels = new Map<string, Map<string, number>>();
  constructor(private readonly windowMs: number) {}

  async touch(channel: string, player: string, now = Date.now()): Promise<void> {
    let players = this.channels.get(channel);
    if (!players) this.channels.set(channel, (players = new Map()));
    players.set(player, now);
  }

  async count(channel: string, now = Date.now()): Promise<number> {
    const players = this.channels.get(channel);
    if (!players) return 0;
    for (const [p, at] of players) if (at <= now - this.windowMs) players.delete(p);
    return players.size;
  }

  async forget(channel: string): Promise<void> {
    this.channels.delete(channel);
  }
}

/** One sorted set per channel (member = player, score = last seen), so every replica counts the same viewers. */
export class RedisViewerCounter implements ViewerCounter {
  constructor(
    private readonly redis: Redis,
    private readonly windowMs: number,
    private readonly prefix = 'neon:live:viewers:',
  ) {}

  async touch(channel: string, player: string, now = Date.now()): Promise<void> {
    const key = this.prefix + channel;
    await this.redis
      .multi()
      .zadd(key, now, player)
      .pexpire(key, this.windowMs * 2)
      .exec();
  }

  async count(channel: string, now = Date.now()): Promise<number> {
    const key = this.prefix + channel;
    const res = await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', now - this.windowMs)
      .zcard(key)
      .exec();
    const card = res?.[1]?.[1];
    return typeof card === 'number' ? card : 0;
  }

  async forget(channel: string): Promise<void> {
    await this.redis.del(this.prefix + channel);
  }
}
