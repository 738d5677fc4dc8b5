export type NriErrorCode = 'CONFIG' | 'REGISTER' | 'CLOSED' | 'HANDLER_TIMEOUT';

export class NriError extends Error {
  override name = 'NriError';

  constructor(
    readonly code: NriErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
