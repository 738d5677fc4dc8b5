import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry holding the process metrics (CPU, memory, event loop) of one component, e.g. `fleetboard_hub_process_resident_memory_bytes`. */
export function componentRegistry(component: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `fleetboard_${component}_` });
  return registry;
}

/** `fleetboard_leader`: whether this pod holds its leader Lease, read at scrape time. */
export function registerLeaderGauge(registry: Registry, leading: () => boolean): void {
  new Gauge({
    name: 'fleetboard_leader',
    help: '1 while this pod holds the leader Lease',
    registers: [registry],
    collect() {
      this.set(leading() ? 1 : 0);
    },
  });
}
