import { Gauge, type Registry } from '@neon/kit';
import type { UpstreamPools } from './pool.js';

/** Each upstream service's replicas in the gateway's pool (healthy) and out of it (ejected), read at scrape time. */
export function registerPoolMetrics(registry: Registry, pools: UpstreamPools): void {
  new Gauge({
    name: 'gateway_upstream_replicas',
    help: "Replicas of each upstream service in the gateway's pool (healthy) and taken out of it (ejected)",
    labelNames: ['upstream', 'state'],
    registers: [registry],
    collect() {
      for (const { service, healthy, ejected } of pools.replicaStates()) {
        this.set({ upstream: service, state: 'healthy' }, healthy);
        this.set({ upstream: service, state: 'ejected' }, ejected);
      }
    },
  });
}
