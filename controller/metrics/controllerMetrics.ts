import { Gauge, Histogram, type Registry } from 'prom-client';
import type { AllocationObserver } from '../nodeapi/server.js';
import { EXPORT_CONFLICT, EXPORT_READY, EXPORT_VALID } from '../mcs/api.js';
import type { ConditionVerdict } from '../mcs/exportValidity.js';
import { componentRegistry, registerLeaderGauge, registerReadGauge } from './registry.js';
import { registerTunnelMetrics, type TunnelSource } from './tunnelMetrics.js';

/** How much of the node CIDR is handed out. */
export interface PoolUsage {
  cidr: string;
  used: number;
  capacity: number;
}

export interface ControllerMetricSources extends TunnelSource {
  /** Undefined until the node has its node CIDR. */
  pool(): PoolUsage | undefined;
  leading(): boolean;
  /** Each ServiceExport's conditions as the leader last judged them; none on other nodes. */
  exports(): readonly (readonly ConditionVerdict[])[];
  /** ServiceImports FleetBoard made in this cluster; 0 on other nodes. */
  imports(): number;
}

export interface ControllerMetrics {
  registry: Registry;
  /** Records one answer of the node API to the plugin's address request. */
  podSetupDone: AllocationObserver;
}

/** Every condition the leader sets on a ServiceExport, so each count shows, 0 included. */
const EXPORT_CONDITIONS = [EXPORT_VALID, EXPORT_READY, EXPORT_CONFLICT];
const CONDITION_STATUSES = ['True', 'False'];

/** From a millisecond (an address the node already holds) to past NRI's 2 s request timeout. */
const POD_SETUP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

/**
 * The node controller's Prometheus metrics. Gauges are read from their
 * sources at scrape time, so they can never drift from the state they report.
 */
export function controllerMetrics(sources: ControllerMetricSources, now: () => number = Date.now): ControllerMetrics {
  const registry = componentRegistry('controller');
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
  registerLeaderGauge(registry, () => sources.leading());
  registerTunnelMetrics(registry, sources, now);
  new Gauge({
    name: 'fleetboard_exports',
    help: 'ServiceExports of this cluster by condition and status, as the leader judged them; 0 on other nodes',
    labelNames: ['condition', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const condition of EXPORT_CONDITIONS) for (const status of CONDITION_STATUSES) this.set({ condition, status }, 0);
      for (const conditions of sources.exports()) for (const c of conditions) this.inc({ condition: c.type, status: c.status });
    },
  });
  registerReadGauge(registry, 'fleetboard_imports', 'ServiceImports FleetBoard made in this cluster; 0 on nodes that do not lead', () => sources.imports());
  const podSetup = new Histogram({
    name: 'fleetboard_pod_setup_seconds',
    help: 'Seconds from the plugin\'s address request for a starting pod to the node API\'s answer',
    labelNames: ['result'],
    buckets: POD_SETUP_BUCKETS,
    registers: [registry],
  });
  for (const result of ['ok', 'error'] as const) podSetup.zero({ result });
  return { registry, podSetupDone: (seconds, result) => podSetup.observe({ result }, seconds) };
}
