export type WireGuardErrorCode =
  /** A key that is not 32 bytes of base64. */
  | 'BAD_KEY'
  /** The UAPI peer sent something the protocol does not allow. */
  | 'MALFORMED'
  /** The device answered a set with errno != 0. */
  | 'REFUSED'
  /** The device did not answer in time, or its socket is gone. */
  | 'UNAVAILABLE'
  /** A configuration that cannot be applied (bad CIDR, endpoint or port). */
  | 'BAD_CONFIG'
  /** The kernel has no WireGuard: `ip link add … type wireguard` is refused. */
  | 'KERNEL_UNSUPPORTED';

export class WireGuardError extends Error {
  override name = 'WireGuardError';
  constructor(
    readonly code: WireGuardErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
