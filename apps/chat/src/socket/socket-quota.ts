import type { Redis } from 'ioredis';
import { MemoryConnectionQuota, RedisConnectionQuota, type ConnectionQuota } from '@neon/platform';

/** How many sockets each user holds, across replicas when shared. */
export type SocketQuota = ConnectionQuota;
export { MemoryConnectionQuota as MemorySocketQuota };

/** Chat's sockets, counted under their own Redis keys. */
export class RedisSocketQuota extends RedisConnectionQuota {
  constructor(redis: Redis, ttlMs: number, prefix = 'neon:chat:sockets:') {
    super(redis, ttlMs, prefix);
  }
}
