import { IpamError } from './errors.js';
import { addressToInt, cidrSize, contains, formatCidr, intToAddress, lastAddress, parseCidr, type Cidr } from './cidr.js';

/**
 * The cluster's ClusterSetIP range: the top sixteenth of its cluster CIDR (a
 * /20, 4094 services, in the default /16), but never less than one node CIDR,
 * and never the whole cluster CIDR. Node CIDRs are carved from the rest.
 */
export function clusterSetIpRange(clusterCidr: string, nodePrefix: number): Cidr {
  const cluster = parseCidr(clusterCidr);
  if (nodePrefix <= cluster.prefix) {
    throw new IpamError(
      'INVALID_PREFIX',
      `cluster CIDR ${clusterCidr} holds a single /${nodePrefix} node CIDR and no room for ClusterSetIPs: use a longer node CIDR prefix or a larger cluster CIDR`,
    );
  }
  const prefix = Math.min(cluster.prefix + 4, nodePrefix);
  const size = 2 ** (32 - prefix);
  return { base: lastAddress(cluster) + 1 - size, prefix };
}

export interface ClusterSetIpPlan {
  /** Service key → its ClusterSetIP. */
  assignment: Map<string, string>;
  /** Services that get none because the range is used up, with what to do. */
  exhausted: { service: string; message: string }[];
}

/**
 * ClusterSetIPs for `services` (keys such as "namespace/name"). An address
 * already recorded for a service is kept when it is inside `range` and no
 * other service holds it (pods and DNS caches already use it); the others get
 * the lowest free one. Services are visited in key order so that two leaders
 * deciding on the same data decide alike. Pure.
 */
export function assignClusterSetIps(range: Cidr, services: Iterable<string>, recorded: ReadonlyMap<string, string>): ClusterSetIpPlan {
  const assignment = new Map<string, string>();
  const exhausted: ClusterSetIpPlan['exhausted'] = [];
  const held = new Set<number>();
  const needing: string[] = [];
  for (const service of [...new Set(services)].sort()) {
    const address = usableRecorded(range, recorded.get(service));
    if (address === undefined || held.has(address)) {
      needing.push(service);
      continue;
    }
    held.add(address);
    assignment.set(service, intToAddress(address));
  }
  // Neither the network nor the broadcast address of the range.
  const first = range.base + 1;
  const last = range.base + cidrSize(range) - 2;
  let next = first;
  for (const service of needing) {
    while (next <= last && held.has(next)) next++;
    if (next > last) {
      exhausted.push({ service, message: `every ClusterSetIP in ${formatCidr(range)} is in use, so ${service} gets none: use a larger cluster CIDR, or unexport services` });
      continue;
    }
    held.add(next);
    assignment.set(service, intToAddress(next));
  }
  return { assignment, exhausted };
}

function usableRecorded(range: Cidr, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let address: number;
  try {
    address = addressToInt(text);
  } catch {
    return undefined;
  }
  const inside = contains(range, address) && address !== range.base && address !== lastAddress(range);
  return inside ? address : undefined;
}
