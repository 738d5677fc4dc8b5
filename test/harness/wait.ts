import { setTimeout as delay } from 'node:timers/promises';
import { HarnessError } from './errors.js';

export interface WaitOptions {
  /** What is awaited, for the timeout message ("apiserver cluster1 ready"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than undefined, or fails with
 * a TIMEOUT error that names what was awaited and the last probe error seen.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 200;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new HarnessError('TIMEOUT', `timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${detail}`, {
        cause: lastError,
      });
    }
    await delay(interval);
  }
}
