/** Errors of the test harness and testbed, with stable codes tests can assert on. */
export type HarnessErrorCode =
  | 'TOOL_MISSING'
  | 'PROCESS_EXITED'
  | 'TIMEOUT'
  | 'NOT_ROOT'
  | 'COMMAND_FAILED'
  | 'NOT_STARTED';

export class HarnessError extends Error {
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HarnessError';
  }
}
