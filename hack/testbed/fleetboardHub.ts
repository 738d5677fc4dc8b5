import { secondsValue } from './charts.js';

/**
 * FleetBoard's hub as the testbed installs it: the fleetboard chart installed
 * by helm with these options as its values. The chart makes the join token and
 * keeps it in the Secret BOOTSTRAP_TOKEN_SECRET, where users read it.
 */
export interface HubInstallOptions {
  /** tunnel.endpoint: the address members dial. */
  endpoint: string;
  globalCidr?: string;
  /** tunnel.port: the NodePort in front of the leader cnf. */
  nodePort?: number;
  namespace?: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
}

export const HUB_NAMESPACE = 'fleetboard-system';
export const HUB_CNF_SELECTOR = 'fleetboard.io/role=hub-cnf';
export const BOOTSTRAP_TOKEN_SECRET = 'fleetboard-bootstrap-token';

/** The chart values for `o`; what is not set keeps the chart's default. */
export function hubValues(o: HubInstallOptions): object {
  return {
    tunnel: { endpoint: o.endpoint, cidr: o.globalCidr, port: o.nodePort },
    leaderElection: { leaseDuration: secondsValue(o.leaseDuration), renewDeadline: secondsValue(o.renewDeadline), retryPeriod: secondsValue(o.retryPeriod) },
  };
}
