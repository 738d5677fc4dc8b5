import type { DeviceStatus } from '../wireguard/device.js';

/** WireGuard's Reject-After-Time: a session whose last handshake is older carries no traffic. */
export const HANDSHAKE_FRESH_MS = 180_000;

/** Where a tunnel leads: another node of this cluster, the hub, or another member cluster. */
export type TunnelKind = 'node' | 'hub' | 'cluster';

/** How a tunnel is named where users see it (metrics): never by its key. */
export interface TunnelName {
  /** A node name, or a cluster ID for the hub and other clusters. */
  name: string;
  kind: TunnelKind;
}

/** One tunnel as its device reports it. */
export interface TunnelHealth extends TunnelName {
  /** Undefined until the first handshake. */
  lastHandshake: Date | undefined;
  rxBytes: number;
  txBytes: number;
}

/** Whether a tunnel whose last handshake was `at` still carries traffic at `now` (ms since the epoch). */
export function handshakeFresh(at: Date, now: number): boolean {
  return now - at.getTime() < HANDSHAKE_FRESH_MS;
}

/**
 * The device's peers under their names. A peer whose key no name belongs to
 * (one being removed while its owner went away) is left out. Pure.
 */
export function tunnelHealth(status: DeviceStatus, names: ReadonlyMap<string, TunnelName>): TunnelHealth[] {
  const tunnels: TunnelHealth[] = [];
  for (const peer of status.peers) {
    const named = names.get(peer.publicKey);
    if (named) tunnels.push({ name: named.name, kind: named.kind, lastHandshake: peer.lastHandshake, rxBytes: peer.rxBytes, txBytes: peer.txBytes });
  }
  return tunnels;
}
