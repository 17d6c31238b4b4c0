import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (>= 1). */
  resetSeconds: number;
}

/**
 * Fixed-window counters: `hit(key)` counts one request against `limit` per
 * `windowSeconds`; synchronous when the counters are in this process.
 */
export interface RateLimiter {
  hit(key: string): RateDecision | Promise<RateDecision>;
  close?(): void;
}

function decide(count: number, limit: number, resetMs: number): RateDecision {
  return {
    allowed: count <= limit,
    limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
  };
}

/** One gateway process: counters in a map, swept as their windows end. */
export function memoryRateLimiter(limit: number, windowSeconds: number): RateLimiter {
  const windowMs = windowSeconds * 1000;
  const counters = new Map<string, { count: number; resetAt: number }>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [k, v] of counters) if (v.resetAt <= now) counters.delete(k);
    },
    Math.min(windowMs, 60_000),
  );
  sweep.unref();
  return {
    hit(key) {
      const now = Date.now();
      let c = counters.get(key);
      if (!c || c.resetAt <= now) {
        c = { count: 0, resetAt: now + windowMs };
        counters.set(key, c);
      }
      c.count++;
      return decide(c.count, limit, c.resetAt - now);
    },
    close: () => clearInterval(sweep),
  };
}

// INCR and the expiry of a fresh window in one round trip, atomically.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

/** Shared by every gateway replica: the counters live in Redis. */
export function redisRateLimiter(
  redis: Redis,
  prefix: string,
  limit: number,
  windowSeconds: number,
): RateLimiter {
  const windowMs = windowSeconds * 1000;
  return {
    async hit(key) {
      const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, `${prefix}:${key}`, windowMs)) as [
        number,
        number,
      ];
      return decide(count, limit, ttl);
    },
  };
}
