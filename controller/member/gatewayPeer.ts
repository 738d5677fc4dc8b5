import { checkPeer, HUB_PEER_NAME, MEMBER_NAMESPACE_PREFIX, type Peer } from '../clusterset/peer.js';
import type { PeerConfig } from '../wireguard/device.js';

export interface GatewayView {
  /** The gateway's tunnel to the hub; undefined while it must not dial yet. */
  hubPeer: PeerConfig | undefined;
  /** Why there is no tunnel yet, for the log. */
  waiting?: string;
}

/**
 * What the gateway of cluster `self` should hold towards the hub, from the
 * clusterset's Peers: the hub's key and endpoint, and as allowed IPs exactly
 * the other member clusters' CIDRs (the hub forwards to them). It dials only
 * once the hub has accepted this gateway's key, since a handshake the hub
 * drops is retried only after five seconds. Pure.
 */
export function gatewayView(objects: readonly unknown[], self: { namespace: string; clusterID: string; publicKey: string }, keepaliveSeconds: number, resolvedEndpoint: (endpoint: string) => string | undefined): GatewayView {
  const peers = objects.map(checkPeer).filter((p): p is Peer => typeof p !== 'string');
  const own = peers.find((p) => p.metadata?.namespace === self.namespace && p.metadata.name === self.clusterID);
  if (!own) return { hubPeer: undefined, waiting: `the hub has no Peer ${self.namespace}/${self.clusterID} yet` };
  if (own.status?.acceptedPublicKey !== self.publicKey) return { hubPeer: undefined, waiting: 'the hub has not accepted this gateway\'s public key yet' };
  const hub = peers.find((p) => p.spec.isHub && p.metadata?.name === HUB_PEER_NAME && !(p.metadata.namespace ?? '').startsWith(MEMBER_NAMESPACE_PREFIX));
  if (!hub?.spec.publicKey || !hub.spec.endpoint || !hub.spec.port) return { hubPeer: undefined, waiting: 'the hub has not published its endpoint and key yet' };
  const address = resolvedEndpoint(hub.spec.endpoint);
  if (!address) return { hubPeer: undefined, waiting: `the hub endpoint ${hub.spec.endpoint} does not resolve` };
  const remote = peers
    .filter((p) => !p.spec.isHub && p !== own && (p.metadata?.namespace ?? '').startsWith(MEMBER_NAMESPACE_PREFIX))
    .flatMap((p) => p.spec.clusterCIDR)
    .filter((c) => !own.spec.clusterCIDR.includes(c))
    .sort();
  const endpoint = address.includes(':') ? `[${address}]:${hub.spec.port}` : `${address}:${hub.spec.port}`;
  return { hubPeer: { publicKey: hub.spec.publicKey, endpoint, allowedIps: [...new Set(remote)], persistentKeepalive: keepaliveSeconds } };
}
