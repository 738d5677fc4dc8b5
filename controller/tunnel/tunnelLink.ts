import { ipBatch } from '../../plugin/netns/ip.js';

/**
 * In the cnf netns: the WireGuard interface up with the pod MTU, and the
 * global CIDR routed into it. Local pods' /32 routes on their veths are more
 * specific, so only traffic for other nodes (and, later, clusters) enters the
 * tunnel, where each peer's allowed IPs pick the destination.
 */
export async function ensureTunnelLink(iface: string, mtu: number, globalCidr: string): Promise<void> {
  await ipBatch({}, [`link set dev ${iface} mtu ${mtu} up`, `route replace ${globalCidr} dev ${iface}`]);
}
