import { intToAddress, parseCidr } from '../ipam/cidr.js';

/** The in-addr.arpa name of an IPv4 address: its octets reversed (RFC 1035 §3.5). Pure. */
export function reverseName(ipv4: string): string {
  return `${ipv4.split('.').reverse().join('.')}.in-addr.arpa`;
}

/**
 * The in-addr.arpa zones that together cover an IPv4 network: a prefix off
 * an octet boundary is split into the networks of the next boundary, as
 * CoreDNS does with a CIDR server block (10.112.0.0/12 is 112.10 to
 * 127.10.in-addr.arpa). Throws on a malformed network. Pure.
 */
export function reverseZones(cidr: string): string[] {
  const { base, prefix } = parseCidr(cidr);
  if (prefix < 8) throw new RangeError(`${cidr} is wider than a /8; give the global CIDR, e.g. 10.112.0.0/12`);
  const boundary = Math.ceil(prefix / 8) * 8;
  // At most 128, for a prefix just past a boundary.
  const count = 2 ** (boundary - prefix);
  const step = 2 ** (32 - boundary);
  const zones: string[] = [];
  for (let i = 0; i < count; i++) {
    const octets = intToAddress(base + i * step).split('.').slice(0, boundary / 8);
    zones.push(`${octets.reverse().join('.')}.in-addr.arpa`);
  }
  return zones;
}
