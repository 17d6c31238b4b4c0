import type { Redis } from 'ioredis';

/**
 * How many long-lived connections (chat sockets, notification streams) each
 * user holds, across replicas when shared.
 */
export interface ConnectionQuota {
  /** Counts `socketId` against the user's connections; false when they hold `max` already. */
  acquire(userId: string, socketId: string, max: number): Promise<boolean>;
  release(userId: string, socketId: string): void;
  /** Keeps this replica's connections counted (a shared count forgets a replica that stops renewing). */
  renew(sockets: readonly { userId: string; socketId: string }[]): Promise<void>;
  close(): void;
}

/** One replica's count: the embedded shape, where it is the only one. */
export class MemoryConnectionQuota implements ConnectionQuota {
  private readonly held = new Map<string, Set<string>>();

  async acquire(userId: string, socketId: string, max: number): Promise<boolean> {
    let set = this.held.get(userId);
    if (!set) this.held.set(userId, (set = new Set()));
    if (set.size >= max) return false;
    set.add(socketId);
    return true;
  }

  release(userId: string, socketId: string): void {
    const set = this.held.get(userId);
    set?.delete(socketId);
    if (set?.size === 0) this.held.delete(userId);
  }

  async renew(): Promise<void> {}

  close(): void {}
}

const ACQUIRE = `
local key, now, ttl, max, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= max then return 0 end
redis.call('ZADD', key, now + ttl, member)
redis.call('PEXPIRE', key, ttl)
return 1
`;

/**
 * Shared by every replica: a sorted set per user (under `prefix`) of
 * connection ids, each with the time it lapses unless its replica renews it,
 * so the connections of a replica that died stop counting within `ttlMs`.
 */
export class RedisConnectionQuota implements ConnectionQuota {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly prefix: string,
  ) {}

  async acquire(userId: string, socketId: string, max: number): Promise<boolean> {
    const ok = await this.redis.eval(
      ACQUIRE,
      1,
      this.prefix + userId,
      Date.now(),
      this.ttlMs,
      max,
      socketId,
    );
    return ok === 1;
  }

  release(userId: string, socketId: string): void {
    this.redis.zrem(this.prefix + userId, socketId).catch(() => undefined);
  }

  async renew(sockets: readonly { userId: string; socketId: string }[]): Promise<void> {
    if (sockets.length === 0) return;
    const until = Date.now() + this.ttlMs;
    const pipeline = this.redis.pipeline();
    for (const s of sockets) {
      pipeline.zadd(this.prefix + s.userId, 'XX', until, s.socketId);
      pipeline.pexpire(this.prefix + s.userId, this.ttlMs);
    }
    await pipeline.exec();
  }

  close(): void {}
}
