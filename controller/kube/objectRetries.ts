/** First wait after an object fails, doubled on each further failure up to the cap (client-go's per-item backoff). */
const BASE_MS = 1000;
const MAX_MS = 5 * 60_000;

interface Failing {
  attempts: number;
  retryAt: number;
  reason: string;
}

/**
 * The objects a reconciler could not handle, each retried on its own with
 * exponential backoff. A reconcile pass handles every other object as usual
 * and leaves one that is waiting as it is (no write, nothing withdrawn) until
 * its retry falls due; the pass that succeeds with it clears it.
 */
export class ObjectRetries {
  private readonly failing = new Map<string, Failing>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records that `key` failed; returns how long until it is tried again. */
  failed(key: string, reason: string): number {
    const attempts = (this.failing.get(key)?.attempts ?? 0) + 1;
    const wait = Math.min(MAX_MS, BASE_MS * 2 ** (attempts - 1));
    this.failing.set(key, { attempts, retryAt: this.now() + wait, reason });
    return wait;
  }

  succeeded(key: string): void {
    this.failing.delete(key);
  }

  /** Whether `key` failed and its backoff has not run out: leave it as it is in this pass. */
  waiting(key: string): boolean {
    const f = this.failing.get(key);
    return f !== undefined && f.retryAt > this.now();
  }

  /** Why `key` last failed, while it is failing. */
  reason(key: string): string | undefined {
    return this.failing.get(key)?.reason;
  }

  /** Milliseconds until the next retry falls due; undefined when nothing failed. */
  nextRetryIn(): number | undefined {
    let next: number | undefined;
    for (const f of this.failing.values()) next = Math.min(next ?? Infinity, f.retryAt);
    return next === undefined ? undefined : Math.max(0, next - this.now());
  }

  /** Forgets the objects not in `present` (they are gone, so nothing is left to retry). */
  keepOnly(present: ReadonlySet<string>): void {
    for (const key of this.failing.keys()) if (!present.has(key)) this.failing.delete(key);
  }

  get size(): number {
    return this.failing.size;
  }
}
