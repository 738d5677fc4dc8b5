import { secondsValue } from './charts.js';

/**
 * FleetBoard's member-cluster agent as the testbed installs it: the
 * fleetboard-agent chart installed by helm with these options as its values.
 */
export interface AgentOptions {
  /** A cluster on its own; a member of a hub gets its cluster CIDR from the hub instead. */
  clusterCidr?: string;
  /** The join material: hub.hubURL, hub.bootstrapToken, the hub CA and cluster.clusterID. */
  hub?: { url: string; caPem: string; bootstrapToken: string; clusterID: string };
  /** Seconds between keepalives to the hub. */
  keepalive?: number;
  /**
   * tunnel.endpoint and tunnel.port: where other members reach this cluster's
   * gateway, which then gets direct tunnels. A NodePort of that port fronts the
   * leader cnf; whatever routes the endpoint to the nodes keeps the port.
   */
  publicEndpoint?: { host: string; port: number };
  /** Lease timings in seconds; short ones make leader changes quick in tests. */
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
  nodeCidrPrefix?: number;
  /** crossdns: its Service's fixed ClusterIP (seed: kube-dns + 1), the seed zone beside clusterset.local, and zones for names chosen per export. */
  dns?: { clusterIP?: string; zone?: string; customZones?: string[] };
}

export { AGENT_NAMESPACE } from '../../controller/cli/join.js';
/** kube-dns's usual ClusterIP (10.96.0.10) + 1. */
export const DEFAULT_CROSSDNS_IP = '10.96.0.11';
export const CLUSTERSET_ZONE = 'clusterset.local';
export const DEFAULT_SEED_ZONE = 'hyperos.local';
export const CROSSDNS_SELECTOR = 'app.kubernetes.io/component=crossdns';

/** The chart values for `o`; what is not set keeps the chart's default. */
export function agentValues(o: AgentOptions): object {
  return {
    hub: o.hub ? { hubURL: o.hub.url, bootstrapToken: o.hub.bootstrapToken, ca: Buffer.from(o.hub.caPem).toString('base64') } : undefined,
    cluster: { clusterID: o.hub?.clusterID, cidr: o.clusterCidr, zone: o.dns?.zone },
    tunnel: { endpoint: o.publicEndpoint?.host, port: o.publicEndpoint?.port, keepalive: secondsValue(o.keepalive) },
    leaderElection: { leaseDuration: secondsValue(o.leaseDuration), renewDeadline: secondsValue(o.renewDeadline), retryPeriod: secondsValue(o.retryPeriod) },
    ipam: { nodeCidrPrefix: o.nodeCidrPrefix },
    crossdns: { clusterIP: o.dns?.clusterIP, customZones: o.dns?.customZones },
  };
}
