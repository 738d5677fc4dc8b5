import type { PeerConfig } from '../wireguard/device.js';
import { checkPeer, memberNamespace } from '../clusterset/peer.js';
import type { Peer } from '../objects/fleetboard.js';
import { objectKey } from '../mcs/objectPlan.js';

export interface SkippedCluster {
  peer: string;
  reason: string;
}

export interface HubPeerPlan {
  /** One WireGuard peer per member: its gateway's key, allowed exactly the cluster CIDR the hub recorded. */
  peers: PeerConfig[];
  /** Peer object (namespace/name) → the key now configured for it. */
  accepted: Map<string, string>;
  skipped: SkippedCluster[];
}

/**
 * The hub router's peers, from the members' Peer objects and the cluster CIDRs
 * recorded on their namespaces. A Peer is only trusted for the CIDR the hub
 * allocated, in its own cluster's namespace, so no member can claim another's
 * addresses. Members dial in, so no endpoint is set. Pure.
 */
export function hubPeers(objects: readonly Peer[], recorded: ReadonlyMap<string, string>): HubPeerPlan {
  const candidates: { id: string; peer: PeerConfig }[] = [];
  const skipped: SkippedCluster[] = [];
  for (const obj of objects) {
    const checked = checkPeer(obj);
    const id = objectKey(obj);
    if (typeof checked === 'string') {
      skipped.push({ peer: id, reason: checked });
      continue;
    }
    const { spec, metadata } = checked;
    if (spec.isHub) continue;
    const namespace = metadata.namespace ?? '';
    if (namespace !== memberNamespace(spec.clusterID) || metadata.name !== spec.clusterID) {
      skipped.push({ peer: id, reason: `a member's Peer must be ${memberNamespace(spec.clusterID)}/${spec.clusterID}` });
      continue;
    }
    const cidr = recorded.get(namespace);
    if (!cidr) {
      skipped.push({ peer: id, reason: `the hub has no cluster CIDR recorded for ${spec.clusterID}` });
      continue;
    }
    if (spec.clusterCIDR.length !== 1 || spec.clusterCIDR[0] !== cidr) {
      skipped.push({ peer: id, reason: `spec.clusterCIDR ${JSON.stringify(spec.clusterCIDR)} differs from ${cidr}, which the hub allocated` });
      continue;
    }
    if (!spec.publicKey) {
      skipped.push({ peer: id, reason: 'no gateway has published its public key yet' });
      continue;
    }
    candidates.push({ id, peer: { publicKey: spec.publicKey, allowedIps: [cidr] } });
  }
  const claims = new Map<string, number>();
  for (const { peer } of candidates) claims.set(peer.publicKey, (claims.get(peer.publicKey) ?? 0) + 1);
  const peers: PeerConfig[] = [];
  const accepted = new Map<string, string>();
  for (const { id, peer } of candidates) {
    if (claims.get(peer.publicKey) !== 1) {
      skipped.push({ peer: id, reason: 'its public key is also claimed by another cluster' });
      continue;
    }
    peers.push(peer);
    accepted.set(id, peer.publicKey);
  }
  peers.sort((a, b) => (a.allowedIps[0] ?? '').localeCompare(b.allowedIps[0] ?? ''));
  return { peers, accepted, skipped };
}
