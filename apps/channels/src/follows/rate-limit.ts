import type { Redis } from 'ioredis';

/** Counts actions per key in a sliding window. */
export interface FollowLimiter {
  /** 0 when one more fits (and is counted); otherwise the milliseconds until one will. */
  take(key: string, limit: number, windowMs: number): Promise<number>;
}

/** One process's view; the embedded shape has no other. */
export class MemoryFollowLimiter implements FollowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    const now = this.now();
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - windowMs);
    if (list.length >= limit) {
      this.hits.set(key, list);
      return list[0]! + windowMs - now;
    }
    list.push(now);
    this.hits.set(key, list);
    // Keys idle for a whole window are forgotten, so the map does not grow with every user.
    if (this.hits.size > 10_000)
      for (const [k, l] of this.hits) if (l[l.length - 1]! <= now - windowMs) this.hits.delete(k);
    return 0;
  }
}

const SLIDING = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return 0
`;

/** Shared by every replica, so a user's budget holds wherever their requests land. */
export class RedisFollowLimiter implements FollowLimiter {
  private seq = 0;
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'neon:channels:follow:',
  ) {}

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    const now = Date.now();
    const member = `${now}-${process.pid}-${++this.seq}-${Math.random().toString(36).slice(2, 8)}`;
    const wait = await this.redis.eval(SLIDING, 1, this.prefix + key, now, windowMs, limit, member);
    return Math.max(0, Number(wait));
  }
}
