import { IpamError } from './errors.js';
import { addressToInt, cidrSize, contains, firstUsableAddress, formatCidr, intToAddress, lastAddress, parseCidr, type Cidr } from './cidr.js';

/**
 * The pod addresses of one node CIDR, in memory. The durable record is the
 * pods' annotations: after a restart the owner rebuilds the pool with
 * `reserve` from them before it allocates anything.
 *
 * The gateway (first host address) lives in the cnf netns, and the network
 * and broadcast addresses are not host addresses; none is ever handed out.
 */
export class NodeAddressPool {
  /** The node CIDR, canonical form. */
  readonly cidr: string;
  /** The gateway address pods route the global CIDR through. */
  readonly gateway: string;
  private readonly network: Cidr;
  private readonly first: number;
  private readonly last: number;
  private readonly byOwner = new Map<string, number>();
  private readonly byAddress = new Map<number, string>();
  /**
   * Where the next search starts. Next-fit rather than lowest-free: a pod
   * recreated at once must not get the address its predecessor just gave
   * up, while peers' conntrack entries, ARP caches or DNS answers may still
   * point at the old pod.
   */
  private cursor: number;

  constructor(cidr: string) {
    this.network = parseCidr(cidr);
    this.cidr = formatCidr(this.network);
    if (this.network.prefix > 30) {
      throw new IpamError(
        'INVALID_PREFIX',
        `node CIDR ${this.cidr} has no room for a gateway and a pod beside the network and broadcast addresses: use a node CIDR prefix of /30 or shorter (default /24)`,
      );
    }
    const gateway = firstUsableAddress(this.network);
    this.gateway = intToAddress(gateway);
    this.first = gateway + 1;
    this.last = lastAddress(this.network) - 1;
    this.cursor = this.first;
  }

  /** How many addresses pods can get. */
  get size(): number {
    return this.last - this.first + 1;
  }

  /** How many addresses pods hold. */
  get used(): number {
    return this.byOwner.size;
  }

  /** The address of `owner` (a pod UID); the same one again if it already has one. */
  allocate(owner: string): string {
    checkOwner(owner);
    const held = this.byOwner.get(owner);
    if (held !== undefined) return intToAddress(held);
    const size = this.size;
    for (let i = 0; i < size; i++) {
      const candidate = this.first + ((this.cursor - this.first + i) % size);
      if (!this.byAddress.has(candidate)) {
        this.take(owner, candidate);
        this.cursor = candidate === this.last ? this.first : candidate + 1;
        return intToAddress(candidate);
      }
    }
    throw new IpamError(
      'POOL_EXHAUSTED',
      `node CIDR ${this.cidr} is exhausted: all ${size} pod addresses are in use (the CIDR has ${cidrSize(this.network)} addresses; ` +
        `network, broadcast and gateway are never handed out); use a larger node CIDR, i.e. a prefix shorter than /${this.network.prefix}`,
    );
  }

  /** Gives `owner`'s address back; false when it held none. */
  release(owner: string): boolean {
    const held = this.byOwner.get(owner);
    if (held === undefined) return false;
    this.byOwner.delete(owner);
    this.byAddress.delete(held);
    return true;
  }

  /**
   * Records that `owner` holds `ip`, as found in its annotations after a
   * restart. Repeating a reservation is a no-op; anything that would give one
   * address to two owners, or two addresses to one, is refused.
   */
  reserve(owner: string, ip: string): void {
    checkOwner(owner);
    const address = addressToInt(ip);
    if (!contains(this.network, address)) {
      throw new IpamError('OUT_OF_RANGE', `${ip} (for ${owner}) is outside node CIDR ${this.cidr}; it cannot have come from this node's pool`);
    }
    if (address < this.first || address > this.last) {
      throw new IpamError('ADDRESS_RESERVED', `${ip} (for ${owner}) is the ${this.reservedRole(address)} of ${this.cidr} and is never given to a pod`);
    }
    const holder = this.byAddress.get(address);
    if (holder === owner) return;
    if (holder !== undefined) {
      throw new IpamError('ADDRESS_TAKEN', `${ip} is already held by ${holder}; it cannot also be given to ${owner}`);
    }
    const held = this.byOwner.get(owner);
    if (held !== undefined) {
      throw new IpamError('ALREADY_ALLOCATED', `${owner} already holds ${intToAddress(held)}; release it before reserving ${ip}`);
    }
    this.take(owner, address);
    // After a rebuild, carry on after the highest address in use, as the pool did before the restart.
    if (address >= this.cursor) this.cursor = address === this.last ? this.first : address + 1;
  }

  /** The owner of `ip`, if any. */
  holder(ip: string): string | undefined {
    return this.byAddress.get(addressToInt(ip));
  }

  addressOf(owner: string): string | undefined {
    const held = this.byOwner.get(owner);
    return held === undefined ? undefined : intToAddress(held);
  }

  private take(owner: string, address: number): void {
    this.byOwner.set(owner, address);
    this.byAddress.set(address, owner);
  }

  private reservedRole(address: number): string {
    if (address === this.network.base) return 'network address';
    if (address === this.first - 1) return 'gateway';
    return 'broadcast address';
  }
}

function checkOwner(owner: string): void {
  if (owner === '') throw new IpamError('INVALID_OWNER', 'an address owner must be named: pass the pod UID');
}

/**
 * The MAC address of the pod interface holding `ip`: 0a:58 and the four
 * address bytes, as OVN-Kubernetes does. Derived rather than random, so
 * peers' neighbour entries stay valid when a pod interface is recreated
 * with the same address.
 */
export function macForAddress(ip: string): string {
  const value = addressToInt(ip);
  const bytes = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return ['0a', '58', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
