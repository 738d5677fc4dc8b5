import { ApiException } from '@kubernetes/client-node';

/** Errors of leader election, with stable codes callers and tests can assert on. */
export type LeaderErrorCode =
  /** A LeaderElectionConfig value is missing or out of range; fix the configuration. */
  | 'INVALID_CONFIG'
  /** start() was called on an elector that was already started or stopped; create a new one. */
  | 'ALREADY_STARTED'
  /** A pod's leader label could not be set or removed; the cause is the API error. */
  | 'POD_LABEL_FAILED';

/** Whether `err` is the apiserver answering with HTTP status `code`. */
export function hasStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

export class LeaderElectionError extends Error {
  override name = 'LeaderElectionError';

  constructor(
    readonly code: LeaderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
