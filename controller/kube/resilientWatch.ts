import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import { decodeObject, ObjectDecodeError, type ObjectKind } from '../objects/decode.js';
import { objectMeta, type ApiObject, type ObjectMeta } from '../objects/fields.js';

export interface WatchHandlers<T> {
  upsert(obj: T): void;
  /** The object as last read; one that could never be read is not reported gone. */
  remove(obj: T): void;
  /**
   * An object that cannot be read: it is left out of `cached()` (its earlier
   * version too) until it changes, but it still exists, so it is not
   * reported removed (see `unreadable()`).
   */
  invalid?(object: UnreadableObject): void;
}

/** An object that exists but cannot be read: who it is, its metadata if that much can be read, and why. */
export interface UnreadableObject {
  name: string;
  namespace: string | undefined;
  metadata: ObjectMeta | undefined;
  error: ObjectDecodeError;
}

/** What a list call returns, whatever client made it: the items are decoded one by one. */
export type RawList = ListPromise<KubernetesObject>;

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * The informer needs only an object's identity and version to follow the
 * watch; once decoded, the rest of what the API sent (often the bulk of it)
 * is dropped from its cache.
 */
function identityOnly(o: KubernetesObject): void {
  const { name, namespace, resourceVersion } = o.metadata ?? {};
  for (const k of Object.keys(o)) Reflect.deleteProperty(o, k);
  o.metadata = { ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}), ...(resourceVersion !== undefined ? { resourceVersion } : {}) };
}

/**
 * A list-watch that survives errors: @kubernetes/client-node's informer stops
 * for good on most errors, so restart it with backoff. Every object is decoded
 * as it arrives (see objects/): the cache holds objects of the shapes the
 * controllers expect, and one that cannot be read is reported and left out,
 * never handed on. Handler exceptions are caught and logged instead of
 * silently killing the watch.
 */
export class ResilientWatch<T extends ApiObject> {
  private informer: ListWatch<KubernetesObject> | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private listed = false;
  private readonly objects = new Map<string, T>();
  /** Objects that exist but cannot be read, by `namespace/name`. */
  private readonly invalid = new Map<string, UnreadableObject>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly kind: ObjectKind<T>,
    private readonly list: RawList,
    private readonly handlers: WatchHandlers<T>,
    private readonly log: (msg: string) => void,
    /** The same selectors as the list call, so watch and list see the same objects. */
    private readonly opts: { field?: string; label?: string } = {},
  ) {}

  /** Resolves once the first list has been delivered, or has failed (then it is retried; see `synced`). */
  async start(): Promise<void> {
    const list = () =>
      this.list().then((answer) => {
        this.listed = true;
        return answer;
      });
    const informer = new ListWatch<KubernetesObject>(this.path, new Watch(this.kc), list, false, this.opts.label, this.opts.field);
    const guard = (fn: (o: KubernetesObject) => void) => (o: KubernetesObject) => {
      try {
        fn(o);
      } catch (err) {
        this.log(`watch ${this.path}: handler failed: ${(err as Error).message}`);
      }
    };
    informer.on('add', guard((o) => this.arrived(o)));
    informer.on('update', guard((o) => this.arrived(o)));
    informer.on('delete', guard((o) => this.gone(o)));
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

  /** Objects currently known to the watch, decoded. */
  cached(): readonly T[] {
    return [...this.objects.values()];
  }

  /**
   * Objects that exist but cannot be read, by `namespace/name`: left out of
   * `cached()`, but a reconciler that removes what it does not see should
   * leave what belongs to these alone.
   */
  unreadable(): readonly UnreadableObject[] {
    return [...this.invalid.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer?.stop();
  }

  private arrived(raw: KubernetesObject): void {
    const key = keyOf(raw);
    let decoded: T;
    try {
      decoded = decodeObject(this.kind, raw);
    } catch (err) {
      if (!(err instanceof ObjectDecodeError)) throw err;
      const metadata = objectMeta.safeParse(raw.metadata);
      const unreadable = { name: raw.metadata?.name ?? '', namespace: raw.metadata?.namespace, metadata: metadata.success ? metadata.data : undefined, error: err };
      identityOnly(raw);
      this.objects.delete(key);
      this.invalid.set(key, unreadable);
      this.log(`watch ${this.path}: ${err.message}; it is left out until it changes`);
      this.handlers.invalid?.(unreadable);
      return;
    }
    identityOnly(raw);
    this.invalid.delete(key);
    this.objects.set(key, decoded);
    this.handlers.upsert(decoded);
  }

  private gone(raw: KubernetesObject): void {
    const key = keyOf(raw);
    this.invalid.delete(key);
    const before = this.objects.get(key);
    if (!before) return;
    this.objects.delete(key);
    this.handlers.remove(before);
  }
}
