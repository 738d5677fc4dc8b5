import { IpamError, type IpamErrorCode } from './errors.js';
import { containsCidr, formatCidr, nthSubnet, overlaps, parseCidr, subnetCount, type Cidr } from './cidr.js';
import { clusterSetIpRange } from './clusterSetIps.js';

/** Something wrong with one node's CIDR; the node is reassigned (or left without one) and the rest go on. */
export interface NodeCidrProblem {
  node: string;
  code: Extract<IpamErrorCode, 'INVALID_CIDR' | 'INVALID_PREFIX' | 'OUT_OF_RANGE' | 'ADDRESS_TAKEN' | 'POOL_EXHAUSTED'>;
  message: string;
}

export interface NodeCidrPlan {
  /** node name → node CIDR, for existing nodes only. */
  assignment: Map<string, string>;
  problems: NodeCidrProblem[];
}

type Checked = { cidr: Cidr } | { problem: NodeCidrProblem };

function checkRecorded(node: string, recorded: string, cluster: Cidr, clusterSetIps: Cidr, prefix: number): Checked {
  const clusterText = formatCidr(cluster);
  let cidr: Cidr;
  try {
    cidr = parseCidr(recorded);
  } catch (err) {
    const why = err instanceof IpamError ? err.message : String(err);
    return { problem: { node, code: 'INVALID_CIDR', message: `node ${node} has an unreadable CIDR recorded (${why}); it gets a new one` } };
  }
  if (cidr.prefix !== prefix) {
    const message = `node ${node} has ${recorded} recorded, but node CIDRs are /${prefix}; it gets a new one`;
    return { problem: { node, code: 'INVALID_PREFIX', message } };
  }
  if (!containsCidr(cluster, cidr)) {
    const message = `node ${node} has ${recorded} recorded, outside cluster CIDR ${clusterText}; it gets a new one`;
    return { problem: { node, code: 'OUT_OF_RANGE', message } };
  }
  if (overlaps(clusterSetIps, cidr)) {
    const message = `node ${node} has ${recorded} recorded, inside the ClusterSetIP range ${formatCidr(clusterSetIps)}; it gets a new one`;
    return { problem: { node, code: 'OUT_OF_RANGE', message } };
  }
  return { cidr };
}

/**
 * The node CIDR assignment that should be recorded, given the recorded one
 * and the nodes that exist now. Recorded valid entries are kept, because
 * pods on those nodes already hold addresses from them; nodes without one
 * get the lowest free subnet; entries of vanished nodes are dropped, which
 * frees their subnets. `nodes` must come from a complete, synced listing:
 * a node missing from it loses its CIDR.
 *
 * Nodes are visited in name order so that two leaders deciding on the same
 * data decide the same way, including which of two nodes recorded with the
 * same CIDR keeps it.
 *
 * A bad cluster CIDR or node prefix is configuration, and throws; trouble with
 * single nodes is reported in `problems` so the other nodes still get theirs.
 */
export function assignNodeCidrs(
  clusterCidr: string,
  nodePrefix: number,
  current: ReadonlyMap<string, string>,
  nodes: Iterable<string>,
): NodeCidrPlan {
  const cluster = parseCidr(clusterCidr);
  subnetCount(cluster, nodePrefix);
  if (nodePrefix > 30) {
    throw new IpamError('INVALID_PREFIX', `node CIDR prefix /${nodePrefix} leaves no address for pods beside the gateway: use /30 or shorter (default /24)`);
  }
  // The top of the cluster CIDR holds the ClusterSetIPs; node CIDRs come from below it.
  const clusterSetIps = clusterSetIpRange(clusterCidr, nodePrefix);
  const count = (clusterSetIps.base - cluster.base) / 2 ** (32 - nodePrefix);
  const assignment = new Map<string, string>();
  const problems: NodeCidrProblem[] = [];
  const holders = new Map<number, string>();
  const needing: string[] = [];

  for (const node of [...new Set(nodes)].sort()) {
    const recorded = current.get(node);
    if (recorded === undefined) {
      needing.push(node);
      continue;
    }
    const checked = checkRecorded(node, recorded, cluster, clusterSetIps, nodePrefix);
    if ('problem' in checked) {
      problems.push(checked.problem);
      needing.push(node);
      continue;
    }
    const holder = holders.get(checked.cidr.base);
    if (holder !== undefined) {
      const message = `${recorded} is recorded for both node ${holder} and node ${node}; ${holder} keeps it and ${node} gets a new one`;
      problems.push({ node, code: 'ADDRESS_TAKEN', message });
      needing.push(node);
      continue;
    }
    holders.set(checked.cidr.base, node);
    assignment.set(node, formatCidr(checked.cidr));
  }

  let next = 0;
  for (const node of needing) {
    while (next < count && holders.has(nthSubnet(cluster, nodePrefix, next).base)) next++;
    if (next >= count) {
      const message =
        `cluster CIDR ${formatCidr(cluster)} holds ${count} /${nodePrefix} node CIDRs beside its ClusterSetIPs and all are assigned, so node ${node} gets none ` +
        `(no pod on it can join the parallel network): use a larger cluster CIDR or a longer node CIDR prefix`;
      problems.push({ node, code: 'POOL_EXHAUSTED', message });
      continue;
    }
    const subnet = nthSubnet(cluster, nodePrefix, next);
    holders.set(subnet.base, node);
    assignment.set(node, formatCidr(subnet));
  }
  return { assignment, problems };
}
