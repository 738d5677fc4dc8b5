import { Address4, Address6 } from 'ip-address';
import { IpamError } from './errors.js';

/**
 * An IPv4 network. Addresses are unsigned 32-bit integers held in plain
 * numbers: every sum below stays under 2^33, far inside the safe-integer
 * range, so no bigint is needed.
 */
export interface Cidr {
  /** The network address, host bits zero. */
  readonly base: number;
  /** Prefix length, 0–32. */
  readonly prefix: number;
}

function refuseIpv6(text: string, what: string): void {
  if (text.includes(':') && Address6.isValid(text)) {
    throw new IpamError('IPV6_UNSUPPORTED', `${what} "${text}" is IPv6; FleetBoard's parallel network is IPv4-only for now: use an IPv4 ${what}`);
  }
}

/** Parses a plain dotted-quad IPv4 address ("10.112.1.5") into its integer. */
export function addressToInt(text: string): number {
  refuseIpv6(text, 'address');
  if (text.includes('/') || !Address4.isValid(text)) {
    throw new IpamError('INVALID_ADDRESS', `"${text}" is not an IPv4 address: write it as four decimal octets without a prefix, e.g. 10.112.1.5`);
  }
  return Number(new Address4(text).bigInt());
}

/** Formats an address integer as dotted quad. */
export function intToAddress(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new IpamError('OUT_OF_RANGE', `${value} is not an IPv4 address: it must be an integer from 0 to 4294967295`);
  }
  return Address4.fromInteger(value).correctForm();
}

/**
 * Parses "a.b.c.d/n". The host bits must be zero: a typo such as
 * 10.112.1.5/24 for 10.112.1.0/24 would otherwise silently widen or shift a
 * range that other clusters and nodes rely on.
 */
export function parseCidr(text: string): Cidr {
  refuseIpv6(text, 'CIDR');
  const slash = text.indexOf('/');
  if (slash < 0) {
    throw new IpamError('INVALID_CIDR', `"${text}" has no prefix length: write a network as address/prefix, e.g. 10.112.0.0/16`);
  }
  if (!Address4.isValid(text)) {
    throw new IpamError(
      'INVALID_CIDR',
      `"${text}" is not an IPv4 CIDR: write four decimal octets and a prefix length from 0 to 32, e.g. 10.112.0.0/16`,
    );
  }
  const parsed = new Address4(text);
  const cidr = { base: Number(parsed.startAddress().bigInt()), prefix: parsed.subnetMask };
  if (Number(parsed.bigInt()) !== cidr.base) {
    throw new IpamError('INVALID_CIDR', `${text} is not a network address; did you mean ${formatCidr(cidr)}?`);
  }
  return cidr;
}

export function formatCidr(cidr: Cidr): string {
  return `${intToAddress(cidr.base)}/${cidr.prefix}`;
}

/** Number of addresses in the network, network and broadcast included. */
export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** The last address of the network (its broadcast address when prefix ≤ 30). */
export function lastAddress(cidr: Cidr): number {
  return cidr.base + cidrSize(cidr) - 1;
}

export function contains(cidr: Cidr, address: number): boolean {
  return address >= cidr.base && address <= lastAddress(cidr);
}

/** True when every address of `inner` is in `outer`. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.base);
}

/** True when the two networks share at least one address (aligned networks either nest or are disjoint). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsCidr(a, b) || containsCidr(b, a);
}

function checkSubnetPrefix(cidr: Cidr, prefix: number): void {
  if (!Number.isInteger(prefix) || prefix < cidr.prefix || prefix > 32) {
    throw new IpamError(
      'INVALID_PREFIX',
      `cannot carve /${prefix} subnets from ${formatCidr(cidr)}: the prefix length must be an integer from ${cidr.prefix} to 32`,
    );
  }
}

/** How many /prefix subnets `cidr` holds (256 /24s in a /16). */
export function subnetCount(cidr: Cidr, prefix: number): number {
  checkSubnetPrefix(cidr, prefix);
  return 2 ** (prefix - cidr.prefix);
}

/** The n-th (from 0) /prefix subnet of `cidr`, in address order. */
export function nthSubnet(cidr: Cidr, prefix: number, n: number): Cidr {
  const count = subnetCount(cidr, prefix);
  if (!Number.isInteger(n) || n < 0 || n >= count) {
    throw new IpamError('OUT_OF_RANGE', `${formatCidr(cidr)} has ${count} /${prefix} subnets, numbered 0 to ${count - 1}; there is no subnet ${n}`);
  }
  return { base: cidr.base + n * 2 ** (32 - prefix), prefix };
}

/**
 * The first usable address, which FleetBoard uses as the gateway: the one
 * after the network address, except in /31 and /32 networks, which have no
 * network address to skip (RFC 3021).
 */
export function firstUsableAddress(cidr: Cidr): number {
  return cidr.prefix >= 31 ? cidr.base : cidr.base + 1;
}

/**
 * `outer` without `inner`, as the fewest CIDRs (one per prefix length between
 * them): the halves of each split that do not hold `inner`. Used where a peer
 * may carry "everything else in the global CIDR" and nothing of our own range.
 */
export function subtractCidr(outer: Cidr, inner: Cidr): Cidr[] {
  if (!overlaps(outer, inner)) return [outer];
  if (containsCidr(inner, outer)) return [];
  const rest: Cidr[] = [];
  for (let prefix = outer.prefix + 1; prefix <= inner.prefix; prefix++) {
    const size = 2 ** (32 - prefix);
    const holding = inner.base - ((inner.base - outer.base) % size);
    // The sibling of the half that holds `inner` at this depth.
    const sibling = ((holding - outer.base) / size) % 2 === 0 ? holding + size : holding - size;
    rest.push({ base: sibling, prefix });
  }
  return rest.sort((a, b) => a.base - b.base);
}

/** The lowest /prefix subnet of `range` that overlaps none of `taken`, or undefined when all are used. */
export function firstFreeSubnet(range: Cidr, prefix: number, taken: readonly Cidr[]): Cidr | undefined {
  const count = subnetCount(range, prefix);
  for (let n = 0; n < count; n++) {
    const candidate = nthSubnet(range, prefix, n);
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  return undefined;
}
