import { ApiException } from '@kubernetes/client-node';

export const isConflict = (err: unknown): boolean => err instanceof ApiException && err.code === 409;
export const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;
/** For `.catch`: what is already gone needs no deleting. */
export const ignoreNotFound = (err: unknown): void => {
  if (!isNotFound(err)) throw err;
};
export const httpCode = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

/**
 * The apiserver's own explanation (the Status message) rather than the
 * ApiException message, which repeats the raw body and every response header.
 */
export function apiErrorDetail(err: unknown): string {
  if (!(err instanceof ApiException)) return err instanceof Error ? err.message : String(err);
  const body: unknown = err.body;
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.slice(0, 200) || `HTTP ${err.code}`; // not a Status object: the text itself is the best detail
    }
  }
  const message = typeof status === 'object' && status !== null ? (status as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : `HTTP ${err.code}`;
}
