import type { Redis } from 'ioredis';

/** Counts events per key in a sliding window; `take` says whether one more fits. */
export interface RateLimiter {
  take(key: string, limit: number, windowMs: number): Promise<boolean>;
}

/** One replica's view: exact, but a user with sockets on two replicas gets two budgets. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private sweeps = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, limit: number, windowMs: number): Promise<boolean> {
    return this.takeSync(key, limit, windowMs);
  }

  takeSync(key: string, limit: number, windowMs: number): boolean {
    const now = this.now();
    const since = now - windowMs;
    let list = this.hits.get(key);
    if (!list) {
      list = [];
      this.hits.set(key, list);
    }
    let drop = 0;
    while (drop < list.length && list[drop]! <= since) drop++;
    if (drop > 0) list.splice(0, drop);
    if (++this.sweeps % 10_000 === 0) this.sweep(now, windowMs);
    if (list.length >= limit) return false;
    list.push(now);
    return true;
  }

  /** Forgets keys idle for a whole window, so the map does not grow with every user ever seen. */
  private sweep(now: number, windowMs: number): void {
    for (const [key, list] of this.hits) {
      const last = list[list.length - 1];
      if (last === undefined || last <= now - windowMs) this.hits.delete(key);
    }
  }
}

const SLIDING = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return 1
`;

/** Shared by every replica, so a user's budget holds wherever their sockets land. */
export class RedisRateLimiter implements RateLimiter {
  private seq = 0;
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'neon:chat:rl:',
  ) {}

  async take(key: string, limit: number, windowMs: number): Promise<boolean> {
    const now = Date.now();
    const member = `${now}-${process.pid}-${++this.seq}-${Math.random().toString(36).slice(2, 8)}`;
    const ok = await this.redis.eval(SLIDING, 1, this.prefix + key, now, windowMs, limit, member);
    return ok === 1;
  }
}
