import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** How much of the node CIDR is handed out. */
export interface PoolUsage {
  cidr: string;
  used: number;
  capacity: number;
}

export interface ControllerMetricSources {
  /** Undefined until the node has its node CIDR. */
  pool(): PoolUsage | undefined;
  leading(): boolean;
}

/**
 * The node controller's Prometheus metrics. Values are read from their
 * sources at scrape time, so they can never drift from the state they report.
 */
export function controllerMetrics(sources: ControllerMetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetboard_controller_' });
  const poolGauges = [
    { name: 'fleetboard_ipam_addresses_in_use', help: 'Pod addresses of the node CIDR held by pods of this node', value: (p: PoolUsage) => p.used },
    { name: 'fleetboard_ipam_addresses_capacity', help: 'Pod addresses the node CIDR offers (network, gateway and broadcast excluded)', value: (p: PoolUsage) => p.capacity },
  ];
  for (const { name, help, value } of poolGauges) {
    new Gauge({
      name,
      help,
      labelNames: ['node_cidr'],
      registers: [registry],
      collect() {
        this.reset();
        const pool = sources.pool();
        if (pool) this.set({ node_cidr: pool.cidr }, value(pool));
      },
    });
  }
  new Gauge({
    name: 'fleetboard_leader',
    help: '1 while this cnf holds the cluster leader Lease',
    registers: [registry],
    collect() {
      this.set(sources.leading() ? 1 : 0);
    },
  });
  return registry;
}
