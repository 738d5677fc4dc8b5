/** How many writes a controller keeps in flight to one apiserver. */
export const API_WRITE_CONCURRENCY = 16;

/**
 * Runs `work` on every item with at most `limit` calls in flight, so a burst
 * of API writes neither waits on each round trip in turn nor floods the
 * apiserver. Every item is tried; the first failure is thrown afterwards.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}
