/**
 * Errors of the address management, with stable codes callers and tests
 * branch on; messages say what to change.
 */
export type IpamErrorCode =
  /** Text that is not an IPv4 network in CIDR notation, or has host bits set. */
  | 'INVALID_CIDR'
  /** Text that is not a plain IPv4 address. */
  | 'INVALID_ADDRESS'
  /** A prefix length that does not fit (longer than the host part allows, shorter than the parent). */
  | 'INVALID_PREFIX'
  /** IPv6 input; the parallel network is IPv4-only for now. */
  | 'IPV6_UNSUPPORTED'
  /** Every address (or subnet) is handed out. */
  | 'POOL_EXHAUSTED'
  /** The address or subnet belongs to someone else. */
  | 'ADDRESS_TAKEN'
  /** The address is the network, broadcast or gateway address and never belongs to a pod. */
  | 'ADDRESS_RESERVED'
  /** The owner already holds a different address. */
  | 'ALREADY_ALLOCATED'
  /** An owner name that cannot identify a pod (empty). */
  | 'INVALID_OWNER'
  /** The address or subnet lies outside the range it must come from. */
  | 'OUT_OF_RANGE'
  /** A `fleetboard.io/` pod annotation that cannot be decoded. */
  | 'BAD_ANNOTATION'
  /** Optimistic concurrency on the durable record kept failing. */
  | 'STORE_CONFLICT'
  /** The Kubernetes API refused or failed a read or write of the durable record. */
  | 'STORE_FAILED';

export class IpamError extends Error {
  constructor(
    readonly code: IpamErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IpamError';
  }
}
