import { createHash } from 'node:crypto';

/** The pod's second interface as it must be: what the controller allocated plus local settings. */
export interface PodInterfaceSpec {
  /** Name inside the pod, e.g. eth-fleet. */
  ifName: string;
  /** Name of the other end, in the cnf netns. */
  hostIfName: string;
  address: string;
  /** Prefix length of the node CIDR the address belongs to. */
  prefixLength: number;
  gateway: string;
  mac: string;
  mtu: number;
  routes: { dst: string; gw: string }[];
}

/** What `ip -j addr show` and `ip -j route show` report about the pod end. */
export interface ObservedPodSide {
  addresses: string[];
  routes: string[];
}

/** Host-side veth names: one per pod UID, at most 15 characters (IFNAMSIZ - 1). */
export const HOST_IF_PREFIX = 'fbp';

export function hostInterfaceName(podUid: string): string {
  return HOST_IF_PREFIX + createHash('sha256').update(podUid).digest('hex').slice(0, 12);
}

const hostRoute = (ip: string) => `${ip}/32`;

/**
 * iproute2 batch lines that bring the pod end to the spec: link settings,
 * exactly the one address (no prefix route: everything goes via the gateway,
 * which the cnf end answers for), the gateway as an on-link host route, and
 * the routes. Stale addresses and routes are removed. Pure.
 */
export function planPodSide(spec: PodInterfaceSpec, seen: ObservedPodSide): string[] {
  const dev = spec.ifName;
  const wantAddr = `${spec.address}/${spec.prefixLength}`;
  const wantRoutes = [hostRoute(spec.gateway), ...spec.routes.map((r) => r.dst)];
  return [
    `link set dev ${dev} address ${spec.mac} mtu ${spec.mtu} up`,
    ...seen.addresses.filter((a) => a !== wantAddr).map((a) => `addr del ${a} dev ${dev}`),
    `addr replace ${wantAddr} dev ${dev} noprefixroute`,
    ...seen.routes.filter((r) => !wantRoutes.includes(r)).map((r) => `route del ${r} dev ${dev}`),
    `route replace ${hostRoute(spec.gateway)} dev ${dev} scope link src ${spec.address}`,
    ...spec.routes.map((r) => `route replace ${r.dst} via ${r.gw} dev ${dev} src ${spec.address}`),
  ];
}

/** Batch lines for the cnf end: up, the gateway address, and the host route to the pod. Pure. */
export function planHostSide(spec: PodInterfaceSpec): string[] {
  const dev = spec.hostIfName;
  return [
    `link set dev ${dev} mtu ${spec.mtu} up`,
    `addr replace ${spec.gateway}/32 dev ${dev}`,
    `route replace ${hostRoute(spec.address)} dev ${dev} scope link src ${spec.gateway}`,
  ];
}
