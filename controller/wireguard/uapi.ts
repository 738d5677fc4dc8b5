/**
 * The text protocol of WireGuard's cross-platform userspace API (wireguard-go's
 * /var/run/wireguard/<iface>.sock): `get=1` and `set=1` requests of `key=value`
 * lines ended by an empty line, answered with `errno=N`. Pure: encoding,
 * parsing and planning only; the socket lives in uapiClient.ts.
 */
import type { DeviceConfig, DeviceStatus, PeerConfig, PeerStatus } from './device.js';
import { WireGuardError } from './errors.js';
import { hexToKey, keyToHex, publicKeyOf } from './keys.js';
import { reportedCidr, wholeNumber } from './reported.js';
import { checkedConfig } from './validate.js';

export const GET_REQUEST = 'get=1\n\n';

/** Largest reply we accept: a device with thousands of peers stays far below it. */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;

const malformed = (msg: string) => new WireGuardError('MALFORMED', `UAPI reply: ${msg}`);

function count(key: string, value: string): number {
  const n = wholeNumber(value);
  if (n === undefined) throw malformed(`${key}=${JSON.stringify(value.slice(0, 40))} is not a whole number`);
  return n;
}

/** Parses a complete `get=1` reply (ending with `errno=0` and an empty line). */
export function parseGetReply(text: string): DeviceStatus {
  if (!text.endsWith('\n\n')) throw malformed('does not end with an empty line');
  const status: DeviceStatus = { listenPort: 0, peers: [] };
  let peer: PeerStatus | undefined;
  let handshakeSec = 0;
  let handshakeNsec = 0;
  let errno: number | undefined;
  const finishPeer = () => {
    if (peer && handshakeSec > 0) peer.lastHandshake = new Date(handshakeSec * 1000 + Math.floor(handshakeNsec / 1e6));
    handshakeSec = 0;
    handshakeNsec = 0;
  };
  for (const line of text.slice(0, -2).split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw malformed(`line ${JSON.stringify(line.slice(0, 80))} is not key=value`);
    if (errno !== undefined) throw malformed('lines after errno');
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'errno') {
      errno = count(key, value);
      continue;
    }
    if (key === 'public_key') {
      finishPeer();
      peer = { publicKey: hexToKey(value), allowedIps: [], persistentKeepalive: 0, rxBytes: 0, txBytes: 0 };
      status.peers.push(peer);
      continue;
    }
    if (!peer) {
      // Only the public key is kept: the private key never leaves the device and its node.
      if (key === 'private_key') status.publicKey = publicKeyOf(hexToKey(value));
      else if (key === 'listen_port') status.listenPort = count(key, value);
      else if (key !== 'fwmark') throw malformed(`unknown device key ${JSON.stringify(key.slice(0, 40))}`);
      continue;
    }
    switch (key) {
      case 'endpoint':
        peer.endpoint = value;
        break;
      case 'allowed_ip':
        peer.allowedIps.push(normalCidr(value));
        break;
      case 'persistent_keepalive_interval':
        peer.persistentKeepalive = count(key, value);
        break;
      case 'last_handshake_time_sec':
        handshakeSec = count(key, value);
        break;
      case 'last_handshake_time_nsec':
        handshakeNsec = count(key, value);
        break;
      case 'rx_bytes':
        peer.rxBytes = count(key, value);
        break;
      case 'tx_bytes':
        peer.txBytes = count(key, value);
        break;
      case 'preshared_key':
      case 'protocol_version':
        break;
      default:
        throw malformed(`unknown peer key ${JSON.stringify(key.slice(0, 40))}`);
    }
  }
  finishPeer();
  if (errno === undefined) throw malformed('no errno line');
  if (errno !== 0) throw new WireGuardError('REFUSED', `get failed with errno=${errno}`);
  return status;
}

function normalCidr(text: string): string {
  const cidr = reportedCidr(text);
  if (cidr === undefined) throw malformed(`allowed_ip ${JSON.stringify(text.slice(0, 60))} is not a CIDR`);
  return cidr;
}

/** The errno of a `set=1` reply; 0 is success. */
export function parseSetReply(text: string): number {
  const m = /^errno=(\d{1,10})\n\n$/.exec(text);
  if (!m) throw malformed(`set reply ${JSON.stringify(text.slice(0, 80))} is not "errno=N"`);
  return Number(m[1]);
}

/** `b` is checked: canonical CIDRs, explicit keepalive. */
function samePeer(a: PeerStatus, b: PeerConfig): boolean {
  return (
    (b.endpoint === undefined || a.endpoint === b.endpoint) &&
    a.persistentKeepalive === b.persistentKeepalive &&
    [...a.allowedIps].sort().join() === [...b.allowedIps].sort().join()
  );
}

/**
 * The `set=1` request that turns `current` into `config`, or undefined when
 * nothing differs. Peers already right are left alone and changed ones are
 * updated in place, so their sessions are not torn down; peers no longer
 * wanted are removed.
 */
export function planSet(current: DeviceStatus, config: DeviceConfig): string | undefined {
  const desired = checkedConfig(config);
  const lines: string[] = [];
  if (current.publicKey !== publicKeyOf(desired.privateKey)) lines.push(`private_key=${keyToHex(desired.privateKey)}`);
  if (current.listenPort !== desired.listenPort) lines.push(`listen_port=${desired.listenPort}`);
  const wanted = new Set(desired.peers.map((p) => p.publicKey));
  for (const have of current.peers) {
    if (!wanted.has(have.publicKey)) lines.push(`public_key=${keyToHex(have.publicKey)}`, 'remove=true');
  }
  const byKey = new Map(current.peers.map((p) => [p.publicKey, p]));
  for (const peer of desired.peers) {
    const have = byKey.get(peer.publicKey);
    if (have && samePeer(have, peer)) continue;
    lines.push(`public_key=${keyToHex(peer.publicKey)}`);
    if (peer.endpoint !== undefined) lines.push(`endpoint=${peer.endpoint}`);
    lines.push(`persistent_keepalive_interval=${peer.persistentKeepalive ?? 0}`);
    lines.push('replace_allowed_ips=true');
    for (const cidr of peer.allowedIps) lines.push(`allowed_ip=${cidr}`);
  }
  return lines.length ? `set=1\n${lines.join('\n')}\n\n` : undefined;
}
