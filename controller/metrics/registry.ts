import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry holding the process metrics (CPU, memory, event loop) of one component, e.g. `fleetboard_hub_process_resident_memory_bytes`. */
export function componentRegistry(component: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `fleetboard_${component}_` });
  return registry;
}

/** A label-less gauge whose value is read from its source at scrape time, so it never drifts from the state it reports. */
export function registerReadGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** `fleetboard_leader`: whether this pod holds its leader Lease. */
export function registerLeaderGauge(registry: Registry, leading: () => boolean): void {
  registerReadGauge(registry, 'fleetboard_leader', '1 while this pod holds the leader Lease', () => (leading() ? 1 : 0));
}
