/**
 * The testbed's address plan: a pure function of the cluster and node counts.
 *
 *   host ── fbh-<cluster> (/30 per cluster) ── control-plane netns (apiserver, etcd, …)
 *   wan netns: bridge 198.18.0.0/24, the "internet" (no uplink)
 *     ├── hub control plane and hub nodes, directly reachable
 *     └── per member: NAT gateway netns ── LAN bridge 192.168.0.0/24 (the same in every member)
 *           ├── member control plane
 *           └── member nodes ── pods (primary network from a reference CNI plugin)
 *
 * Every member uses the same LAN, pod CIDR and service CIDR. All addresses come from
 * ranges reserved for testing (198.18.0.0/15) or private use, and nothing routes
 * beyond the wan bridge.
 */

export type CniType = 'ptp' | 'bridge';

/**
 * Which containerd/nri release a node's runtime embeds: `current` delivers pod
 * events through their dedicated RPCs, `v0.3` (containerd 1.7.0) through StateChange.
 */
export type NriRelease = 'current' | 'v0.3';

export interface NodePlan {
  name: string;
  netns: string;
  ip: string;
  /** The containerd NRI release this node's runtime embeds. */
  nri: NriRelease;
}

export interface ClusterPlan {
  name: string;
  index: number;
  role: 'hub' | 'member';
  cni: CniType;
  podCidr: string;
  serviceCidr: string;
  /** ClusterIP of the `kubernetes` Service. */
  apiServiceIp: string;
  /** ClusterIP of kube-dns (CoreDNS). */
  dnsServiceIp: string;
  /** LAN prefix length and default gateway of nodes and the control plane. */
  lanPrefix: number;
  lanGateway: string;
  controlPlane: { netns: string; ip: string; port: number };
  /** Link between the host and the control-plane netns, so tests reach the apiserver. */
  hostLink: { hostIf: string; hostIp: string; peerIp: string; prefix: number };
  /** NAT gateway in front of a member's LAN. */
  gateway: { netns: string; wanIp: string; lanIp: string } | undefined;
  nodes: NodePlan[];
}

export interface TestbedPlan {
  wan: { netns: string; bridge: string; cidr: string; prefix: number; ip: string };
  clusters: ClusterPlan[];
}

export const NETNS_PREFIX = 'fb-';
export const HOST_LINK_PREFIX = 'fbh-';

const WAN_NET = '198.18.0';
const LAN_NET = '192.168.0';
const HOST_LINK_NET = '198.19.0';

export interface PlanOptions {
  /** Member clusters besides the hub (default 2). */
  clusters: number;
  /** Nodes per cluster (default 2). */
  nodes: number;
}

export class PlanError extends Error {
  override name = 'PlanError';
}

/** Validates the counts and lays out every cluster's addresses and names. */
export function planTestbed(opts: PlanOptions): TestbedPlan {
  if (!Number.isInteger(opts.clusters) || opts.clusters < 1 || opts.clusters > 8) {
    throw new PlanError(`--clusters must be a whole number from 1 to 8 (got ${opts.clusters})`);
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 8) {
    throw new PlanError(`--nodes must be a whole number from 1 to 8 (got ${opts.nodes})`);
  }
  const clusters: ClusterPlan[] = [];
  for (let index = 0; index <= opts.clusters; index++) {
    const hub = index === 0;
    const name = hub ? 'hub' : `cluster${index}`;
    const net = hub ? WAN_NET : LAN_NET;
    const nodes: NodePlan[] = [];
    for (let j = 1; j <= opts.nodes; j++) {
      // Every second node runs containerd 1.7.0's NRI, so both wire protocols are in use.
      const nri = j % 2 === 0 ? 'v0.3' : 'current';
      nodes.push({ name: `${name}-node${j}`, netns: `${NETNS_PREFIX}${name}-n${j}`, ip: `${net}.${(hub ? 20 : 10) + j}`, nri });
    }
    clusters.push({
      name,
      index,
      role: hub ? 'hub' : 'member',
      // Different reference CNI plugins across members show FleetBoard is CNI-agnostic.
      cni: index % 2 === 1 ? 'ptp' : 'bridge',
      podCidr: '10.244.0.0/16',
      serviceCidr: '10.96.0.0/16',
      apiServiceIp: '10.96.0.1',
      dnsServiceIp: '10.96.0.10',
      lanPrefix: 24,
      // The hub's default route ends in the wan namespace, which forwards nothing further.
      lanGateway: hub ? `${WAN_NET}.1` : `${LAN_NET}.1`,
      controlPlane: { netns: `${NETNS_PREFIX}${name}-cp`, ip: `${net}.2`, port: 6443 },
      hostLink: {
        hostIf: `${HOST_LINK_PREFIX}${name}`,
        hostIp: `${HOST_LINK_NET}.${index * 4 + 1}`,
        peerIp: `${HOST_LINK_NET}.${index * 4 + 2}`,
        prefix: 30,
      },
      gateway: hub ? undefined : { netns: `${NETNS_PREFIX}${name}-gw`, wanIp: `${WAN_NET}.${10 + index}`, lanIp: `${LAN_NET}.1` },
      nodes,
    });
  }
  return { wan: { netns: `${NETNS_PREFIX}wan`, bridge: 'br-wan', cidr: `${WAN_NET}.0/24`, prefix: 24, ip: `${WAN_NET}.1` }, clusters };
}

/** Network namespace of a (non host-network) pod of the testbed. */
export function podNetnsName(cluster: string, podUid: string): string {
  return `${NETNS_PREFIX}${cluster}-p${podUid.replace(/-/g, '').slice(0, 12)}`;
}
