import type { Pod } from '../objects/core.js';
import { NodeAddressPool } from '../ipam/addressPool.js';
import { decodePodNetwork } from '../ipam/annotations.js';
import { IpamError } from '../ipam/errors.js';

/** A pod whose recorded address cannot be kept; it gets a new one when it is wired again. */
export interface RebuildProblem {
  pod: Pod;
  reason: string;
}

/**
 * Rebuilds a node's pool from what its pods record after a restart. Oldest
 * pods first, so when an annotation was edited by hand to a taken address
 * the pod that had it first keeps it. Terminated pods hold nothing. Pure.
 */
export function rebuildPool(nodeCidr: string, pods: readonly Pod[]): { pool: NodeAddressPool; problems: RebuildProblem[] } {
  const pool = new NodeAddressPool(nodeCidr);
  const problems: RebuildProblem[] = [];
  const byAge = [...pods].sort((a, b) => created(a) - created(b) || (a.metadata.uid ?? '').localeCompare(b.metadata.uid ?? ''));
  const names = new Map(pods.map((p) => [p.metadata.uid ?? '', `${p.metadata.namespace ?? ''}/${p.metadata.name}`]));
  for (const pod of byAge) {
    if (isTerminal(pod) || pod.spec.hostNetwork) continue;
    let recorded;
    try {
      recorded = decodePodNetwork(pod.metadata.annotations);
    } catch (err) {
      problems.push({ pod, reason: (err as Error).message });
      continue;
    }
    if (!recorded) continue;
    if (recorded.cidr !== pool.cidr) {
      problems.push({ pod, reason: `its address ${recorded.ipAddress} is from ${recorded.cidr}, not this node's CIDR ${pool.cidr}` });
      continue;
    }
    try {
      pool.reserve(pod.metadata.uid ?? '', recorded.ipAddress);
    } catch (err) {
      const holder = err instanceof IpamError && err.code === 'ADDRESS_TAKEN' ? pool.holder(recorded.ipAddress) : undefined;
      const reason = holder
        ? `its recorded address ${recorded.ipAddress} is held by pod ${names.get(holder) ?? holder}, which had it first`
        : `its recorded address is not usable: ${(err as Error).message}`;
      problems.push({ pod, reason });
    }
  }
  return { pool, problems };
}

export function isTerminal(pod: Pod): boolean {
  return pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
}

function created(pod: Pod): number {
  const t = pod.metadata.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}
