import type { KubeConfig, KubernetesObject, ListPromise } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientWatch } from './resilientWatch.js';

/** Watches whose every change calls the same `onChange` (a reconcile's scheduler) with the object, stopped together. */
export class WatchSet {
  private readonly watches: { stop(): Promise<void> }[] = [];

  constructor(
    private readonly onChange: (changed: KubernetesObject) => void,
    private readonly log: Logger,
  ) {}

  /** A new watch, not yet started; `label` selects the same objects as `list`, `keep` trims what is cached. */
  add<T extends KubernetesObject>(kc: KubeConfig, path: string, list: ListPromise<T>, label?: string, keep?: (o: T) => T): ResilientWatch<T> {
    const changed = { upsert: (o: T) => this.onChange(o), remove: (o: T) => this.onChange(o) };
    const w = new ResilientWatch<T>(kc, path, list, changed, (m) => this.log.warn(m), { ...(label ? { label } : {}), ...(keep ? { keep } : {}) });
    this.watches.push(w);
    return w;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) await w.stop();
  }
}
