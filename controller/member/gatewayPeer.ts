import { checkPeer, HUB_PEER_NAME, MEMBER_NAMESPACE_PREFIX, type CheckedPeer } from '../clusterset/peer.js';
import type { Peer } from '../objects/fleetboard.js';
import type { PeerConfig } from '../wireguard/device.js';

/** A tunnel to another member that bypasses the hub. */
export interface DirectPeer {
  clusterID: string;
  peer: PeerConfig;
}

export interface GatewayView {
  /** The gateway's tunnel to the hub; undefined while it must not dial yet. */
  hubPeer: PeerConfig | undefined;
  /** The hub's cluster ID, which names that tunnel; empty without `hubPeer`. */
  hubClusterID: string;
  /** Members peered directly, because one side of each pair has a reachable endpoint. */
  direct: DirectPeer[];
  /** Why there is no tunnel yet, for the log. */
  waiting?: string;
  /** Public members whose endpoint does not resolve: peered, but this side cannot dial them. */
  unresolved: string[];
  /** Key of each peer this side dials → when that gateway's device was configured (`status.tunnel.since`). */
  dialled: Map<string, string | undefined>;
}

type Resolve = (endpoint: string) => string | undefined;

const withPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/**
 * What the gateway of cluster `self` should hold, from the clusterset's Peers.
 *
 * Towards the hub: its key and endpoint, allowed exactly the CIDRs of the
 * other members it reaches through the hub. It dials only once the hub has
 * accepted this gateway's key, since a handshake the hub drops is retried only
 * after five seconds.
 *
 * Directly: every other member where this cluster or that one declares a
 * reachable endpoint (`isPublic`); the side with an endpoint is dialled, and
 * its CIDRs move from the hub peer to the direct one. Both sides decide from
 * the same two Peers, so they agree on which path a pair uses. Only keys the
 * hub has accepted are trusted, for the CIDRs it checked. Pure.
 */
export function gatewayView(objects: readonly Peer[], self: { namespace: string; clusterID: string; publicKey: string }, keepaliveSeconds: number, resolve: Resolve): GatewayView {
  const none = (waiting: string): GatewayView => ({ hubPeer: undefined, hubClusterID: '', direct: [], waiting, unresolved: [], dialled: new Map() });
  const peers = objects.map(checkPeer).filter((p): p is CheckedPeer => typeof p !== 'string');
  const own = peers.find((p) => p.metadata.namespace === self.namespace && p.metadata.name === self.clusterID);
  if (!own) return none(`the hub has no Peer ${self.namespace}/${self.clusterID} yet`);
  if (own.status.acceptedPublicKey !== self.publicKey) return none('the hub has not accepted this gateway\'s public key yet');
  const hub = peers.find((p) => p.spec.isHub && p.metadata.name === HUB_PEER_NAME && !(p.metadata.namespace ?? '').startsWith(MEMBER_NAMESPACE_PREFIX));
  if (!hub?.spec.publicKey || !hub.spec.endpoint || !hub.spec.port) return none('the hub has not published its endpoint and key yet');
  const hubAddress = resolve(hub.spec.endpoint);
  if (!hubAddress) return none(`the hub endpoint ${hub.spec.endpoint} does not resolve`);

  const members = peers.filter((p) => !p.spec.isHub && p !== own && (p.metadata.namespace ?? '').startsWith(MEMBER_NAMESPACE_PREFIX));
  const viaHub: string[] = [];
  const direct: DirectPeer[] = [];
  const unresolved: string[] = [];
  const dialled = new Map([[hub.spec.publicKey, hub.status.tunnel?.since]]);
  const keys = new Set([self.publicKey, hub.spec.publicKey]);
  for (const p of members) {
    const cidrs = p.spec.clusterCIDR.filter((c) => !own.spec.clusterCIDR.includes(c));
    const key = p.spec.publicKey;
    // A key the hub has not accepted (or one already in use) is not trusted for a direct tunnel.
    const trusted = key !== undefined && key !== '' && p.status.acceptedPublicKey === key && !keys.has(key);
    if (!trusted || !(own.spec.isPublic || p.spec.isPublic)) {
      viaHub.push(...cidrs);
      continue;
    }
    keys.add(key);
    const address = p.spec.isPublic && p.spec.endpoint ? resolve(p.spec.endpoint) : undefined;
    if (p.spec.isPublic && !address) unresolved.push(`${p.spec.clusterID} (${p.spec.endpoint ?? ''})`);
    const peer: PeerConfig = { publicKey: key, allowedIps: [...new Set(cidrs)].sort() };
    if (address && p.spec.port) {
      Object.assign(peer, { endpoint: withPort(address, p.spec.port), persistentKeepalive: keepaliveSeconds });
      dialled.set(key, p.status.tunnel?.since);
    }
    direct.push({ clusterID: p.spec.clusterID, peer });
  }
  direct.sort((a, b) => a.clusterID.localeCompare(b.clusterID));
  const hubPeer: PeerConfig = { publicKey: hub.spec.publicKey, endpoint: withPort(hubAddress, hub.spec.port), allowedIps: [...new Set(viaHub)].sort(), persistentKeepalive: keepaliveSeconds };
  return { hubPeer, hubClusterID: hub.spec.clusterID, direct, unresolved, dialled };
}

/**
 * Keys of dialled peers whose gateway was configured anew since the last look
 * (the same key on a replaced device): their session is gone on the other
 * side, so the peer is re-created here, which handshakes at once. Pure.
 */
export function restartedPeers(before: ReadonlyMap<string, string | undefined>, now: ReadonlyMap<string, string | undefined>): string[] {
  const restarted: string[] = [];
  for (const [key, since] of now) {
    const was = before.get(key);
    if (was !== undefined && since !== undefined && since !== was) restarted.push(key);
  }
  return restarted;
}
