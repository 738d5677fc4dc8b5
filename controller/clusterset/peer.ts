import { formatCidr, parseCidr } from '../ipam/cidr.js';
import type { Condition } from '../objects/fields.js';
import type { Peer } from '../objects/fleetboard.js';
import { isValidKey } from '../wireguard/keys.js';

/**
 * `peers.fleetboard.io/v1alpha1`: one per cluster of the clusterset, kept in
 * the hub. The hub's own Peer lives in the hub's namespace; a member's Peer in
 * that member's namespace `fleetboard-cluster-<id>`, where only that member
 * (and the hub) may write.
 */
export const FLEETBOARD_GROUP = 'fleetboard.io';
export const FLEETBOARD_VERSION = 'v1alpha1';
export const PEER_PLURAL = 'peers';
export const PEER_KIND = 'Peer';
export const HUB_PEER_NAME = 'hub';
export const MEMBER_NAMESPACE_PREFIX = 'fleetboard-cluster-';
/** On a member's hub namespace: the cluster CIDR the hub allocated (members cannot write namespaces). */
export const CLUSTER_CIDR_ANNOTATION = 'fleetboard.io/cluster-cidr';

export interface PeerSpec {
  clusterID: string;
  /** The CIDRs this cluster owns in the global CIDR; allocated by the hub. */
  clusterCIDR: string[];
  /** Address (or DNS name) other clusters dial; empty for clusters behind NAT. */
  endpoint?: string;
  port?: number;
  /** The WireGuard public key of the cluster's current gateway (its leader cnf). */
  publicKey?: string;
  isHub: boolean;
  isPublic: boolean;
}

export interface PeerCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** A gateway's view of its tunnels, written by the cluster (the hub writes only `gatewayNode` and `since`). */
export interface PeerTunnelStatus {
  gatewayNode: string;
  /**
   * RFC 3339: when the current gateway's device was configured. A change tells
   * the clusters that dial this one to start a new session at once rather than
   * after WireGuard's 15 s without a reply (a replacement on the same node keeps its key).
   */
  since?: string;
  /** The tunnels that bypass the hub, one per cluster peered directly. */
  direct?: DirectTunnelStatus[];
  /** RFC 3339; absent until the first handshake. */
  lastHandshake?: string;
  rxBytes?: number;
  txBytes?: number;
  /** The gateway's tunnel MTU and its underlay's: `fleetctl diagnose` compares them across clusters. */
  mtu?: number;
  underlayMtu?: number;
}

/** The MTU fields of a gateway's tunnel status. */
export const linkMtuStatus = (m: { mtu: number; underlayMtu: number | undefined }): Pick<PeerTunnelStatus, 'mtu' | 'underlayMtu'> => ({ mtu: m.mtu, ...(m.underlayMtu ? { underlayMtu: m.underlayMtu } : {}) });

/** A direct tunnel to another member, as the gateway's device reports it. */
export interface DirectTunnelStatus {
  clusterID: string;
  lastHandshake?: string;
  rxBytes: number;
  txBytes: number;
}

export interface PeerStatus {
  /** Written by the hub: the key it has configured for this cluster. */
  acceptedPublicKey?: string;
  /** Written whole by a merge patch: the new condition among those read back. */
  conditions?: Condition[];
  tunnel?: PeerTunnelStatus;
}

/** A Peer as FleetBoard writes it; what is read back is objects/fleetboard.ts's Peer. */
export interface PeerBody {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: PeerSpec;
}

/** A Peer with a spec: one that names its cluster (fields unchecked; see checkPeer). */
export type NamedPeer = Peer & { spec: NonNullable<Peer['spec']> };

/** The Peers that name their cluster; one without a spec (made by hand?) names none. */
export const namedPeers = (peers: readonly Peer[]): NamedPeer[] => peers.filter((p): p is NamedPeer => p.spec !== undefined);

/** A Peer that checkPeer vouched for: it has a spec, and its fields hold what they say. */
export type CheckedPeer = NamedPeer;

export const memberNamespace = (clusterID: string): string => `${MEMBER_NAMESPACE_PREFIX}${clusterID}`;

/** A cluster ID names a namespace (`fleetboard-cluster-<id>`), so it is a DNS label that fits in 63 characters with the prefix. */
export function clusterIdProblem(id: unknown): string | undefined {
  const max = 63 - MEMBER_NAMESPACE_PREFIX.length;
  if (typeof id !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(id) || id.length > max) {
    return `cluster ID ${JSON.stringify(id)} must be 1 to ${max} lower-case letters, digits or "-", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** A Peer another party wrote, checked before anything is configured from it; or why it cannot be used. Pure. */
export function checkPeer(peer: Peer): CheckedPeer | string {
  const name = `${peer.metadata.namespace ?? ''}/${peer.metadata.name}`;
  const spec = peer.spec;
  if (!spec) return `Peer ${name} has no spec`;
  const idProblem = clusterIdProblem(spec.clusterID);
  if (idProblem) return `Peer ${name}: ${idProblem}`;
  for (const c of spec.clusterCIDR) {
    try {
      if (formatCidr(parseCidr(c)) !== c) return `Peer ${name}: spec.clusterCIDR entry ${JSON.stringify(c)} is not a CIDR`;
    } catch (err) {
      return `Peer ${name}: spec.clusterCIDR: ${(err as Error).message}`;
    }
  }
  if (spec.publicKey !== undefined && spec.publicKey !== '' && !isValidKey(spec.publicKey)) return `Peer ${name}: spec.publicKey is not a WireGuard public key`;
  if (spec.port !== undefined && (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535)) return `Peer ${name}: spec.port must be a UDP port`;
  if (spec.isPublic && (!spec.endpoint || !spec.port)) return `Peer ${name}: spec.isPublic needs spec.endpoint and spec.port, where other clusters reach its gateway`;
  return { ...peer, spec };
}
