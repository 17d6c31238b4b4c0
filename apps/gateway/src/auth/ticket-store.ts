import type { Redis } from 'ioredis';

/** Remembers used socket tickets (by `jti`) until they expire: each works once. */
export interface TicketStore {
  /** True the first time `jti` is seen, false after. */
  consume(jti: string, ttlSeconds: number): Promise<boolean>;
  close?(): void;
}

export function memoryTicketStore(): TicketStore {
  const used = new Map<string, number>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, until] of used) if (until <= now) used.delete(k);
  }, 30_000);
  sweep.unref();
  return {
    async consume(jti, ttlSeconds) {
      const now = Date.now();
      const until = used.get(jti);
      if (until !== undefined && until > now) return false;
      used.set(jti, now + ttlSeconds * 1000);
      return true;
    },
    close: () => clearInterval(sweep),
  };
}

/** Shared by gateway replicas, so a ticket used on one is dead on all. */
export function redisTicketStore(redis: Redis, prefix: string): TicketStore {
  return {
    async consume(jti, ttlSeconds) {
      const ok = await redis.set(`${prefix}:${jti}`, '1', 'EX', Math.max(1, ttlSeconds), 'NX');
      return ok === 'OK';
    },
  };
}
