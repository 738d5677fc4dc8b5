/**
 * Checks of what we ask a device to hold, run before any backend sees it:
 * each value must be exactly what it claims to be, so none can carry extra
 * lines into a UAPI request or a wg config file.
 */
import { formatCidr, parseCidr } from '../ipam/cidr.js';
import type { DeviceConfig, PeerConfig } from './device.js';
import { WireGuardError } from './errors.js';
import { keyBytes } from './keys.js';

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no "/" or spaces. */
export function isInterfaceName(name: string): boolean {
  return /^[A-Za-z0-9_.-]{1,15}$/.test(name);
}

export function checkInterfaceName(name: string): void {
  if (!isInterfaceName(name)) throw new WireGuardError('BAD_CONFIG', `interface name ${JSON.stringify(name)} must be 1 to 15 letters, digits, "_", "." or "-"`);
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new WireGuardError('BAD_CONFIG', `${what} must be a port from 0 to 65535 (got ${port})`);
  return port;
}

function checkEndpoint(endpoint: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(endpoint);
  if (!m || Number(m[2]) > 65535 || Number(m[2]) === 0) throw new WireGuardError('BAD_CONFIG', `endpoint must be ip:port, e.g. 198.18.0.21:31820 (got ${JSON.stringify(endpoint)})`);
  return endpoint;
}

function canonicalCidr(text: string): string {
  try {
    return formatCidr(parseCidr(text));
  } catch (err) {
    throw new WireGuardError('BAD_CONFIG', `allowed IP ${JSON.stringify(text)}: ${(err as Error).message}`, { cause: err });
  }
}

function checkedPeer(peer: PeerConfig): PeerConfig {
  keyBytes(peer.publicKey, 'peer public key');
  return {
    publicKey: peer.publicKey,
    ...(peer.endpoint !== undefined && { endpoint: checkEndpoint(peer.endpoint) }),
    allowedIps: peer.allowedIps.map(canonicalCidr),
    persistentKeepalive: checkPort(peer.persistentKeepalive ?? 0, 'persistent keepalive'),
  };
}

/**
 * `config` with canonical CIDRs and the keepalive made explicit (0 = off), or
 * a BAD_KEY / BAD_CONFIG error naming the first value that is wrong.
 */
export function checkedConfig(config: DeviceConfig): DeviceConfig {
  keyBytes(config.privateKey, 'private key');
  const listenPort = checkPort(config.listenPort, 'listen port');
  const peers = config.peers.map(checkedPeer);
  if (new Set(peers.map((p) => p.publicKey)).size !== peers.length) throw new WireGuardError('BAD_CONFIG', 'a peer public key appears twice');
  return { privateKey: config.privateKey, listenPort, peers };
}
