export type MuxErrorCode = 'FRAME_TOO_LARGE' | 'UNKNOWN_CONN' | 'CLOSED';

/** Every mux error is fatal for the trunk: the framing has no way to resynchronise. */
export class MuxError extends Error {
  override name = 'MuxError';

  constructor(
    readonly code: MuxErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
