/**
 * A DeviceConfig in the configuration-file format of the `wg` tool
 * (wireguard-tools), for `wg syncconf <iface> /dev/stdin`. Pure.
 */
import type { DeviceConfig } from './device.js';
import { checkedConfig } from './validate.js';

/**
 * Every value is checked first, so none can add a line or a section. Each
 * peer states its keepalive (0 = off) because wg leaves unstated settings as
 * they were; the endpoint is left out for peers that dial us, so the address
 * they roam from is kept.
 */
export function renderWgConfig(config: DeviceConfig): string {
  const checked = checkedConfig(config);
  const lines = ['[Interface]', `PrivateKey = ${checked.privateKey}`, `ListenPort = ${checked.listenPort}`];
  for (const peer of checked.peers) {
    lines.push('', '[Peer]', `PublicKey = ${peer.publicKey}`);
    if (peer.endpoint !== undefined) lines.push(`Endpoint = ${peer.endpoint}`);
    // Without the line the peer has no allowed IPs: wg replaces a peer's list with what the file gives.
    if (peer.allowedIps.length > 0) lines.push(`AllowedIPs = ${peer.allowedIps.join(', ')}`);
    lines.push(`PersistentKeepalive = ${peer.persistentKeepalive ?? 0}`);
  }
  return `${lines.join('\n')}\n`;
}
