import { memberNamespace } from '../clusterset/peer.js';
import type { Peer } from '../objects/fleetboard.js';

/**
 * The clusters whose tunnel the hub reports down (`Connected=False` on their
 * Peer, trusted only in their own namespace): their endpoints cannot be
 * reached, so DNS and the ClusterSetIPs leave them out. A cluster the hub has
 * not judged yet counts as connected, and `self` always does: its endpoints
 * are reached inside the cluster. Pure.
 */
export function disconnectedClusters(peers: readonly Peer[], self: string): Set<string> {
  const down = new Set<string>();
  for (const p of peers) {
    const cluster = p.spec?.clusterID;
    if (cluster === undefined || cluster === self || p.spec?.isHub || p.metadata.namespace !== memberNamespace(cluster)) continue;
    if (p.status.conditions.find((c) => c.type === 'Connected')?.status === 'False') down.add(cluster);
  }
  return down;
}
