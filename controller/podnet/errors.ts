import { status } from '@grpc/grpc-js';

export type PodNetErrorCode = 'NOT_READY' | 'POD_GONE' | 'EXHAUSTED' | 'API';

const GRPC: Record<PodNetErrorCode, status> = {
  NOT_READY: status.UNAVAILABLE,
  POD_GONE: status.NOT_FOUND,
  EXHAUSTED: status.RESOURCE_EXHAUSTED,
  API: status.UNAVAILABLE,
};

/** Errors of the node's pod address service; `grpcCode` is what the plugin receives. */
export class PodNetError extends Error {
  override name = 'PodNetError';
  readonly grpcCode: status;

  constructor(
    readonly code: PodNetErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.grpcCode = GRPC[code];
  }
}
