/**
 * Errors of crossdns, with stable codes callers and tests branch on;
 * messages say what to change. Bad flags are OptionsErrors (controller/options.ts).
 */
export type CrossDnsErrorCode =
  /** The UDP or TCP socket could not be bound (address in use, not local, no permission). */
  'LISTEN_FAILED';

export class CrossDnsError extends Error {
  constructor(
    readonly code: CrossDnsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CrossDnsError';
  }
}
