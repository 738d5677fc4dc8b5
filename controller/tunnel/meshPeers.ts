import type { Pod } from '../objects/core.js';
import { isValidKey } from '../wireguard/keys.js';
import type { PeerConfig } from '../wireguard/device.js';
import { LEADER_LABEL } from '../leader/leaderLabel.js';
import type { TunnelName } from './tunnelHealth.js';

/** What each cnf pod publishes about its tunnel endpoint on its own pod object. */
export const tunnelAnnotations = {
  publicKey: 'fleetboard.io/public-key',
  port: 'fleetboard.io/tunnel-port',
} as const;

export interface SkippedPeer {
  pod: string;
  reason: string;
}

/** The peer a cnf pod stands for, or why it cannot be one yet. */
function peerOf(pod: Pod, nodeCidrs: ReadonlyMap<string, string>, keepalive: number): PeerConfig | string {
  const key = pod.metadata.annotations[tunnelAnnotations.publicKey];
  const port = Number(pod.metadata.annotations[tunnelAnnotations.port]);
  const ip = pod.status.podIP;
  const cidr = nodeCidrs.get(pod.spec.nodeName ?? '');
  if (key === undefined) return 'has not published its public key yet';
  if (!isValidKey(key)) return `annotation ${tunnelAnnotations.publicKey} is not a WireGuard public key`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `annotation ${tunnelAnnotations.port} is not a port`;
  if (!ip) return 'has no pod IP yet';
  if (!cidr) return `node ${pod.spec.nodeName ?? ''} has no node CIDR yet`;
  return { publicKey: key, endpoint: `${ip}:${port}`, allowedIps: [cidr], persistentKeepalive: keepalive };
}

/**
 * The WireGuard peers of this node's cnf inside its cluster: every other cnf
 * that has published its key, has an address and whose node has a node CIDR.
 * Each peer is allowed exactly its node's CIDR; the leader's cnf, the cluster's
 * gateway to other clusters, is also allowed the global CIDR. WireGuard picks
 * the longest matching prefix, so that means "every other cluster" and never
 * another node's CIDR. Pure.
 *
 * Peers get a persistent keepalive although nothing in a cluster is behind NAT:
 * setting it makes a (re)started device handshake with every peer at once, so
 * peers holding the session of a device that died switch to the new one
 * instead of sending into the void until WireGuard's 15 s rekey timeout.
 */
export function meshPeers(
  selfNode: string,
  cnfPods: readonly Pod[],
  nodeCidrs: ReadonlyMap<string, string>,
  globalCidr: string,
  keepaliveSeconds: number,
): { peers: PeerConfig[]; skipped: SkippedPeer[] } {
  const candidates: { pod: string; peer: PeerConfig; leader: boolean }[] = [];
  const skipped: SkippedPeer[] = [];
  for (const pod of cnfPods) {
    const node = pod.spec.nodeName ?? '';
    if (node === selfNode || node === '' || pod.metadata.deletionTimestamp) continue;
    const name = `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
    const peer = peerOf(pod, nodeCidrs, keepaliveSeconds);
    if (typeof peer === 'string') skipped.push({ pod: name, reason: peer });
    else candidates.push({ pod: name, peer, leader: pod.metadata.labels[LEADER_LABEL] === 'true' });
  }
  // Two cnf pods claiming one key would let one of them receive the other's traffic: trust neither.
  const claims = new Map<string, number>();
  for (const { peer } of candidates) claims.set(peer.publicKey, (claims.get(peer.publicKey) ?? 0) + 1);
  const peers: PeerConfig[] = [];
  // While the label moves, two pods may carry it for a moment: route through the first by name only.
  const gateway = candidates.filter((c) => c.leader && claims.get(c.peer.publicKey) === 1).map((c) => c.pod).sort()[0];
  for (const { pod, peer } of candidates) {
    if (claims.get(peer.publicKey) !== 1) skipped.push({ pod, reason: `its public key is also published by another cnf pod` });
    else peers.push(pod === gateway ? { ...peer, allowedIps: [...peer.allowedIps, globalCidr] } : peer);
  }
  peers.sort((a, b) => (a.allowedIps[0] ?? '').localeCompare(b.allowedIps[0] ?? ''));
  return { peers, skipped };
}

/** The tunnel names of the other cnf pods' keys: their node. Pure. */
export function peerNodes(cnfPods: readonly Pod[]): Map<string, TunnelName> {
  const names = new Map<string, TunnelName>();
  for (const pod of cnfPods) {
    const key = pod.metadata.annotations[tunnelAnnotations.publicKey];
    const node = pod.spec.nodeName;
    if (key && node) names.set(key, { name: node, kind: 'node' });
  }
  return names;
}
