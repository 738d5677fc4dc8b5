export type NetnsErrorCode = 'COMMAND_FAILED' | 'NETNS_GONE' | 'BAD_OUTPUT';

export class NetnsError extends Error {
  override name = 'NetnsError';

  constructor(
    readonly code: NetnsErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
