import { Counter, type Registry } from 'prom-client';
import { JOIN_RESULTS, type JoinResult } from '../hub/joinApprover.js';
import { componentRegistry, registerLeaderGauge, registerReadGauge } from './registry.js';
import { registerTunnelMetrics, type TunnelSource } from './tunnelMetrics.js';

export interface HubMetricSources extends TunnelSource {
  leading(): boolean;
  /** Clusters that joined; 0 on hub pods that do not lead. */
  members(): number;
}

export interface HubMetrics {
  registry: Registry;
  /** Records how handling one JoinRequest ended. */
  joinHandled: (result: JoinResult) => void;
}

/** The hub cnf's Prometheus metrics: leadership, the members and their tunnels (on the leader), join approvals. */
export function hubMetrics(sources: HubMetricSources, now: () => number = Date.now): HubMetrics {
  const registry = componentRegistry('hub');
  registerLeaderGauge(registry, () => sources.leading());
  registerTunnelMetrics(registry, sources, now);
  registerReadGauge(registry, 'fleetboard_hub_members', 'Member clusters that joined the hub (their namespaces); 0 on hub pods that do not lead', () => sources.members());
  const joins = new Counter({
    name: 'fleetboard_hub_joins_total',
    help: 'JoinRequests this hub pod handled, by result: approved, refused, or failed (the hub\'s own trouble; retried)',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of JOIN_RESULTS) joins.inc({ result }, 0);
  return { registry, joinHandled: (result) => joins.inc({ result }) };
}
