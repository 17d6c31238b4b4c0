import { Gauge, type Registry } from 'prom-client';
import type { Bus } from './types.js';

/**
 * `bus_consumer_pending{group}`: each durable group's lag, read from the bus
 * at scrape time. Only groups named `<service>.…` are reported, so a bus
 * shared by every service in one process (the embedded shape) shows each
 * group once, under the service that owns it.
 */
export function registerBusMetrics(registry: Registry, bus: Bus, service: string): void {
  new Gauge({
    name: 'bus_consumer_pending',
    help: 'Events published and not yet acknowledged by a durable consumer group (waiting plus in flight)',
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      // A scrape must not fail because the bus is slow or reconnecting: the gauge keeps its last values.
      let pending: Map<string, number>;
      try {
        pending = await bus.pending();
      } catch {
        return;
      }
      this.reset();
      for (const [group, n] of pending) if (group.startsWith(`${service}.`)) this.set({ group }, n);
    },
  });
}
