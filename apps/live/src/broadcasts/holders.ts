import type { Redis } from 'ioredis';
import { LIVE_HOLDERS_KEY } from '@neon/contracts';
import type { Logger } from '@neon/kit';

/**
 * Who holds each channel's broadcast across live replicas. A replica claims
 * a channel before it creates a broadcast for it, keeps the claim while it
 * serves the channel (live, in its grace window, or ended and still answered),
 * and releases it after. A claim held by another replica whose lease has not
 * run out is refused: one broadcast per channel on the whole deployment.
 */
export interface HolderRegistry {
  /** True when this replica now holds the channel (or already did). */
  claim(channel: string, broadcastId: string): Promise<boolean>;
  /** This replica no longer serves the channel (no effect when another one holds it). */
  release(channel: string): void;
  close(): Promise<void>;
}

/** One replica (the embedded shape, or no Redis): every channel is this replica's. */
export const soleHolder: HolderRegistry = {
  claim: () => Promise.resolve(true),
  release: () => undefined,
  close: () => Promise.resolve(),
};

// The lease is compared with Redis's clock, not the replicas': theirs may disagree.
const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] hash; ARGV channel, replica, broadcast id, lease ms. 1: held by the caller now. */
const CLAIM = `${NOW_MS}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local ok, h = pcall(cjson.decode, current)
  if ok and type(h) == 'table' and h.replica ~= ARGV[2] and tonumber(h['until'] or 0) > now then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({replica = ARGV[2], broadcastId = ARGV[3], ['until'] = now + tonumber(ARGV[4])}))
return 1`;

/** As CLAIM, but only while the caller still holds it (a lost lease is not taken back). */
const RENEW = `${NOW_MS}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local ok, h = pcall(cjson.decode, current)
if not ok or type(h) ~= 'table' or h.replica ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({replica = ARGV[2], broadcastId = ARGV[3], ['until'] = now + tonumber(ARGV[4])}))
return 1`;

/** KEYS[1] hash; ARGV channel, replica. Removes the entry if the caller holds it. */
const RELEASE = `local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local ok, h = pcall(cjson.decode, current)
if ok and type(h) == 'table' and h.replica ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

/**
 * The registry in a Redis hash, each claim under a lease renewed every third
 * of it. A replica that dies stops renewing, and after the lease another
 * replica may take its channels. A replica that finds its claim gone or taken
 * (it could not reach Redis for a whole lease) has lost the channel: `onLost`
 * ends its broadcast there, so two replicas never both serve one channel for
 * longer than that.
 */
export class RedisHolderRegistry implements HolderRegistry {
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly announce: string;

  constructor(
    private readonly o: {
      redis: Redis;
      /** This replica's internal URL, as gateways name it. */
      self: string;
      leaseMs: number;
      logger: Logger;
      onLost: (channel: string) => void;
    },
  ) {
    // ioredis prefixes keys, not pub/sub channels: the announcement carries the prefix itself.
    this.announce = `${o.redis.options.keyPrefix ?? ''}${LIVE_HOLDERS_KEY}`;
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, o.leaseMs / 3));
    this.timer.unref();
  }

  async claim(channel: string, broadcastId: string): Promise<boolean> {
    const ok = await this.o.redis.eval(
      CLAIM,
      1,
      LIVE_HOLDERS_KEY,
      channel,
      this.o.self,
      broadcastId,
      String(this.o.leaseMs),
    );
    if (ok !== 1) return false;
    this.held.set(channel, broadcastId);
    this.changed(channel);
    return true;
  }

  release(channel: string): void {
    if (!this.held.delete(channel)) return;
    void this.o.redis
      .eval(RELEASE, 1, LIVE_HOLDERS_KEY, channel, this.o.self)
      .then(() => this.changed(channel))
      .catch((err: unknown) =>
        // The lease runs out on its own: another replica can take the channel a little later.
        this.o.logger.warn({ err, channel }, 'could not release a channel; its lease will lapse'),
      );
  }

  private async renewAll(): Promise<void> {
    for (const [channel, broadcastId] of [...this.held]) {
      let ok: unknown;
      try {
        ok = await this.o.redis.eval(
          RENEW,
          1,
          LIVE_HOLDERS_KEY,
          channel,
          this.o.self,
          broadcastId,
          String(this.o.leaseMs),
        );
      } catch (err) {
        // Redis unreachable: the claim stands until its lease says otherwise.
        this.o.logger.warn({ err, channel }, 'could not renew the lease of a channel');
        continue;
      }
      if (ok === 1 || this.held.get(channel) !== broadcastId) continue;
      this.held.delete(channel);
      this.o.logger.error(
        { channel, broadcastId },
        'lost the lease of a channel (another replica holds it now); its broadcast ends here',
      );
      this.o.onLost(channel);
    }
  }

  private changed(channel: string): void {
    void this.o.redis.publish(this.announce, channel).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const channel of [...this.held.keys()]) {
      this.held.delete(channel);
      await this.o.redis
        .eval(RELEASE, 1, LIVE_HOLDERS_KEY, channel, this.o.self)
        .then(() => this.changed(channel))
        .catch(() => undefined);
    }
  }
}
