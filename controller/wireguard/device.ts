/** What a WireGuard device should hold. Keys are base64, as users see them in Peer objects. */
export interface DeviceConfig {
  privateKey: string;
  listenPort: number;
  peers: PeerConfig[];
}

export interface PeerConfig {
  publicKey: string;
  /** `ip:port` or `[ipv6]:port`; absent for peers that dial us. */
  endpoint?: string;
  /** Exactly the CIDRs the peer owns: traffic from it with other sources is dropped. */
  allowedIps: string[];
  /** Seconds; 0 or absent is off. The side behind NAT sets it to keep the mapping open. */
  persistentKeepalive?: number;
}

/** What a device reports: the tunnel health users and fleetctl see. */
export interface DeviceStatus {
  publicKey?: string;
  listenPort: number;
  peers: PeerStatus[];
}

export interface PeerStatus {
  publicKey: string;
  endpoint?: string;
  allowedIps: string[];
  persistentKeepalive: number;
  /** Undefined until the first handshake. */
  lastHandshake?: Date;
  rxBytes: number;
  txBytes: number;
}

/** A WireGuard interface, whichever implementation runs it. */
export interface WireGuardDevice {
  readonly name: string;
  /**
   * Counts the times this object created the device. It changes when a device
   * that died or was deleted is created again, which loses every session, so
   * peers that dial it must be told to handshake again.
   */
  readonly generation: number;
  /** Converges the device on `config`, touching only peers that differ so live sessions survive. */
  apply(config: DeviceConfig): Promise<void>;
  status(): Promise<DeviceStatus>;
  /** Calls `listener` when the device dies by itself (wireguard-go exited), so its owner applies again at once. */
  onDied(listener: () => void): void;
  close(): Promise<void>;
}
