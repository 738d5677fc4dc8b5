import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';

export interface WatchHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
}

/**
 * Drops what no FleetBoard controller reads but every object carries: the
 * server-side apply bookkeeping, often the bulk of a small object. The cache
 * holds the very object the informer hands to its handlers, so this trims the cache.
 */
function trimmed<T extends KubernetesObject>(o: T): T {
  if (o.metadata?.managedFields) delete o.metadata.managedFields;
  return o;
}

/**
 * A list-watch that survives errors: @kubernetes/client-node's informer stops
 * for good on most errors, so restart it with backoff. Handler exceptions are
 * caught and logged instead of silently killing the watch.
 */
export class ResilientWatch<T extends KubernetesObject> {
  private informer: ListWatch<T> | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private listed = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly list: ListPromise<T>,
    private readonly handlers: WatchHandlers<T>,
    private readonly log: (msg: string) => void,
    /**
     * `field` / `label`: the same selectors as the list call, so watch and list
     * see the same objects. `keep`: cuts each object down to what its reader
     * needs before it is cached (in place, like the managedFields trim).
     */
    private readonly opts: { field?: string; label?: string; keep?: (o: T) => T } = {},
  ) {}

  /** Resolves once the first list has been delivered, or has failed (then it is retried; see `synced`). */
  async start(): Promise<void> {
    const list = () =>
      this.list().then((answer) => {
        this.listed = true;
        return answer;
      });
    const informer = new ListWatch<T>(this.path, new Watch(this.kc), list, false, this.opts.label, this.opts.field);
    const keep = this.opts.keep ?? ((o: T) => o);
    const guard = (fn: (o: T) => void) => (o: T) => {
      try {
        fn(o);
      } catch (err) {
        this.log(`watch ${this.path}: handler failed: ${(err as Error).message}`);
      }
    };
    informer.on('add', guard((o) => this.handlers.upsert(keep(trimmed(o)))));
    informer.on('update', guard((o) => this.handlers.upsert(keep(trimmed(o)))));
    informer.on('delete', guard((o) => this.handlers.remove(o)));
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.failures += 1;
      const backoff = Math.min(10_000, 500 * 2 ** Math.min(this.failures, 5));
      this.log(`watch ${this.path} failed (${(err as Error | undefined)?.message ?? String(err)}); restarting in ${backoff} ms`);
      this.retryTimer = setTimeout(() => {
        if (!this.stopped) informer.start().then(() => (this.failures = 0), () => undefined);
      }, backoff);
    });
    this.informer = informer;
    await informer.start();
  }

  /** Whether a list has been delivered: until then the cache lacks whatever exists. */
  get synced(): boolean {
    return this.listed;
  }

  /** Objects currently known to the watch. */
  cached(): readonly T[] {
    return this.informer?.list() ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer?.stop();
  }
}
