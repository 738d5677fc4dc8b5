/**
 * Parses `wg show <iface> dump`: tab-separated lines, the interface first
 * (private key, public key, listen port, fwmark), then one per peer (public
 * key, preshared key, endpoint, allowed IPs, latest handshake, rx, tx,
 * persistent keepalive), with "(none)", "off" and 0 for unset values. Pure;
 * the text is treated as untrusted.
 */
import type { DeviceStatus, PeerStatus } from './device.js';
import { WireGuardError } from './errors.js';
import { isValidKey } from './keys.js';
import { reportedCidr, wholeNumber } from './reported.js';

const malformed = (msg: string) => new WireGuardError('MALFORMED', `wg show dump: ${msg}`);
const quote = (text: string) => JSON.stringify(text.slice(0, 60));

function fields(line: string, count: number, what: string): string[] {
  const parts = line.split('\t');
  if (parts.length !== count) throw malformed(`the ${what} line has ${parts.length} fields, not ${count}`);
  return parts;
}

function key(text: string, what: string): string {
  if (!isValidKey(text)) throw malformed(`${what} ${quote(text)} is not a base64 key`);
  return text;
}

function number(text: string, what: string, max?: number): number {
  const n = wholeNumber(text);
  if (n === undefined || (max !== undefined && n > max)) throw malformed(`${what} ${quote(text)} is not a whole number${max === undefined ? '' : ` up to ${max}`}`);
  return n;
}

/** Secret keys are checked without ever being quoted in an error. */
function secret(text: string, what: string): void {
  if (text !== '(none)' && !isValidKey(text)) throw malformed(`the ${what} is not a base64 key`);
}

function peerLine(line: string): PeerStatus {
  const [publicKey = '', presharedKey = '', endpoint = '', allowedIps = '', handshake = '', rx = '', tx = '', keepalive = ''] = fields(line, 8, 'peer');
  secret(presharedKey, 'preshared key');
  if (endpoint !== '(none)' && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.%\w-]+\]):\d{1,5}$/.test(endpoint)) throw malformed(`endpoint ${quote(endpoint)} is not ip:port`);
  const handshakeSec = number(handshake, 'latest handshake');
  return {
    publicKey: key(publicKey, 'peer public key'),
    ...(endpoint !== '(none)' && { endpoint }),
    allowedIps: allowedIps === '(none)' ? [] : allowedIps.split(',').map((c) => reportedCidr(c) ?? fail(`allowed IP ${quote(c)} is not a CIDR`)),
    persistentKeepalive: keepalive === 'off' ? 0 : number(keepalive, 'persistent keepalive', 65535),
    // 0: no handshake yet.
    ...(handshakeSec > 0 && { lastHandshake: new Date(handshakeSec * 1000) }),
    rxBytes: number(rx, 'rx bytes'),
    txBytes: number(tx, 'tx bytes'),
  };
}

function fail(msg: string): never {
  throw malformed(msg);
}

/** The device's status; the private key in the first line is checked but never kept or quoted. */
export function parseWgDump(text: string): DeviceStatus {
  if (!text.endsWith('\n')) throw malformed('does not end with a newline');
  const [device = '', ...peers] = text.slice(0, -1).split('\n');
  const [privateKey = '', publicKey = '', listenPort = '', fwmark = ''] = fields(device, 4, 'interface');
  secret(privateKey, 'private key');
  if (fwmark !== 'off' && !/^0x[0-9a-f]{1,8}$/.test(fwmark)) throw malformed(`fwmark ${quote(fwmark)} is neither "off" nor hex`);
  return {
    ...(publicKey !== '(none)' && { publicKey: key(publicKey, 'public key') }),
    listenPort: number(listenPort, 'listen port', 65535),
    peers: peers.map(peerLine),
  };
}
