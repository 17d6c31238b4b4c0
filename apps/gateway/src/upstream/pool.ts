import { Pool } from 'undici';
import type { ServiceName } from '@neon/contracts';
import type { Logger } from '@neon/kit';
import type { ReplicaView, RouteContext, UpstreamPolicy } from './policy.js';
import { Http1Pool } from './http1.js';

/** One upstream replica: a keep-alive connection pool and its health. */
export class Replica implements ReplicaView {
  readonly origin: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly pool: Pool;
  /** The bodiless fast path's connections; null for an https upstream (undici serves it). */
  readonly fast: Http1Pool | null;
  healthy = true;
  /** Consecutive failed health checks or connection failures. */
  failures = 0;

  constructor(
    readonly service: ServiceName,
    readonly url: string,
    options: { connectTimeoutMs: number },
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.tags = Object.fromEntries(new URLSearchParams(parsed.hash.replace(/^#/, '')));
    this.pool = new Pool(this.origin, {
      connect: { timeout: options.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      // Header/body timeouts are set per request: long polls and SSE need none.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.fast =
      parsed.protocol === 'http:'
        ? new Http1Pool(parsed.hostname.replace(/^\[|\]$/g, ''), Number(parsed.port || 80), {
            maxIdle: 256,
            // Below the upstreams' own keep-alive timeout (kit's Fastify: 72 s; node: 5 s).
            idleTimeoutMs: 4000,
          })
        : null;
  }
}

export interface PoolsOptions {
  logger: Logger;
  policy: UpstreamPolicy;
  healthIntervalMs: number;
  connectTimeoutMs: number;
  /**
   * The origin of the one replica that can answer this request (the live
   * replica holding a channel's broadcast), or null when any can. It is
   * chosen while healthy and untried; otherwise the others are tried.
   */
  affinity?: (context: RouteContext) => string | null;
}

/**
 * Every service's replicas: the policy chooses among the healthy ones; an
 * active check (GET /readyz?scope=serving: up, and its engines reachable) and
 * passive ejection (a failed connection) keep
 * `healthy` current.
 */
export class UpstreamPools {
  private readonly byService = new Map<ServiceName, Replica[]>();
  /** Services whose every replica is plain http: the gateway's fast path can serve them. */
  private readonly fast = new Set<ServiceName>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  /** After close, checks still in flight end quietly: a destroyed pool is not a failed replica. */
  private closed = false;
  private readonly logger: Logger;

  constructor(
    urls: Partial<Record<ServiceName, readonly string[]>>,
    private readonly options: PoolsOptions,
  ) {
    this.logger = options.logger;
    for (const [service, list] of Object.entries(urls) as [ServiceName, string[]][]) {
      if (list.length === 0) continue;
      this.byService.set(
        service,
        list.map((u) => new Replica(service, u, { connectTimeoutMs: options.connectTimeoutMs })),
      );
      if (this.byService.get(service)!.every((r) => r.fast !== null)) this.fast.add(service);
    }
  }

  /** Each service's replicas in the pool (healthy) and out of it (ejected), for the metrics. */
  replicaStates(): { service: ServiceName; healthy: number; ejected: number }[] {
    return [...this.byService].map(([service, replicas]) => {
      const healthy = replicas.filter((r) => r.healthy).length;
      return { service, healthy, ejected: replicas.length - healthy };
    });
  }

  has(service: ServiceName): boolean {
    return this.byService.has(service);
  }

  fastCapable(service: ServiceName): boolean {
    return this.fast.has(service);
  }

  /**
   * The replica for this attempt, skipping those already tried. When no
   * replica is known healthy, every untried one is a candidate: a stale
   * check must not turn a recovered service away.
   */
  choose(context: RouteContext, tried: readonly Replica[] = []): Replica | null {
    const all = this.byService.get(context.service);
    if (!all) return null;
    const pinned = this.options.affinity?.(context);
    if (pinned) {
      const holder = all.find((r) => r.origin === pinned);
      if (holder?.healthy && !tried.includes(holder)) return holder;
    }
    let candidates = all;
    if (tried.length > 0 || all.some((r) => !r.healthy)) {
      const untried = all.filter((r) => !tried.includes(r));
      const healthy = untried.filter((r) => r.healthy);
      candidates = healthy.length > 0 ? healthy : untried;
    }
    if (candidates.length === 0) return null;
    if (candidates.length === 1) return candidates[0]!;
    return this.options.policy.choose(candidates, context);
  }

  /** Passive ejection: a replica that refused or dropped a connection is out until a check passes. */
  markFailed(replica: Replica, reason: string): void {
    if (this.closed) return;
    replica.failures++;
    if (replica.healthy) {
      replica.healthy = false;
      this.logger.warn({ upstream: replica.url, reason }, 'upstream replica ejected');
    }
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.checkAll(), this.options.healthIntervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  /** One round of active checks (also what the timer runs). */
  async checkAll(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      const all = [...this.byService.values()].flat();
      await Promise.all(all.map((r) => this.check(r)));
    } finally {
      this.checking = false;
    }
  }

  private async check(replica: Replica): Promise<void> {
    let ok = false;
    try {
      const res = await replica.pool.request({
        method: 'GET',
        // Readiness for serving (engines reachable), not admission: a live replica that is full
        // takes no new broadcasts but must still be reached for those it carries.
        path: '/readyz?scope=serving',
        headersTimeout: Math.max(500, Math.min(this.options.healthIntervalMs, 5000)),
        bodyTimeout: 5000,
      });
      await res.body.dump();
      ok = res.statusCode === 200;
    } catch {
      ok = false;
    }
    if (this.closed) return;
    if (ok) {
      if (!replica.healthy) this.logger.info({ upstream: replica.url }, 'upstream replica healthy');
      replica.healthy = true;
      replica.failures = 0;
    } else {
      this.markFailed(replica, 'health check failed');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const all = [...this.byService.values()].flat();
    for (const r of all) r.fast?.close();
    await Promise.all(all.map((r) => r.pool.destroy().catch(() => undefined)));
  }
}
