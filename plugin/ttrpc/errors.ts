import { status } from '@grpc/grpc-js';

/**
 * Stream-local errors fail one call (TIMEOUT, REMOTE); connection-fatal ones
 * (MALFORMED, FRAME_TOO_LARGE, CLOSED) end the connection and every call on it.
 */
export type TtrpcErrorCode = 'MALFORMED' | 'FRAME_TOO_LARGE' | 'CLOSED' | 'TIMEOUT' | 'REMOTE';

export class TtrpcError extends Error {
  override name = 'TtrpcError';

  constructor(
    readonly code: TtrpcErrorCode,
    message: string,
    /** gRPC status code: the remote's for REMOTE, the one we answer with otherwise. */
    readonly grpcCode: number = status.UNKNOWN,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get fatal(): boolean {
    return this.code === 'MALFORMED' || this.code === 'FRAME_TOO_LARGE' || this.code === 'CLOSED';
  }
}

/** An error a service handler throws to answer with a specific gRPC status code. */
export class RpcStatusError extends Error {
  override name = 'RpcStatusError';

  constructor(
    readonly grpcCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
