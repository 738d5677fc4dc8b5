import type { KubernetesObject } from '@kubernetes/client-node';
import type { BootstrapToken } from '../../controller/cli/bootstrapToken.js';
import { renderChart, secondsValue } from './charts.js';

/**
 * FleetBoard's hub as the testbed installs it: the fleetboard chart rendered
 * with these options as its values.
 */
export interface HubInstallOptions {
  /** tunnel.endpoint: the address members dial. */
  endpoint: string;
  globalCidr?: string;
  /** tunnel.port: the NodePort in front of the leader cnf. */
  nodePort?: number;
  bootstrapToken: BootstrapToken;
  namespace?: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
}

export const HUB_NAMESPACE = 'fleetboard-system';
export const HUB_CNF_SELECTOR = 'fleetboard.io/role=hub-cnf';
export function hubManifests(o: HubInstallOptions): Promise<KubernetesObject[]> {
  const t = o.bootstrapToken;
  return renderChart('fleetboard', o.namespace ?? HUB_NAMESPACE, {
    tunnel: { endpoint: o.endpoint, cidr: o.globalCidr, port: o.nodePort },
    bootstrapToken: { token: `${t.id}.${t.secret}`, ttl: `${Math.max(1, Math.ceil((t.expiration.getTime() - Date.now()) / 1000))}s` },
    leaderElection: { leaseDuration: secondsValue(o.leaseDuration), renewDeadline: secondsValue(o.renewDeadline), retryPeriod: secondsValue(o.retryPeriod) },
  });
}
