import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ObjectKind } from '../objects/decode.js';
import type { ApiObject } from '../objects/fields.js';
import { ResilientWatch, type RawList, type UnreadableObject } from './resilientWatch.js';

/** Watches whose every change calls the same `onChange` (a reconcile's scheduler) with the object, stopped together. */
export class WatchSet {
  private readonly watches: { stop(): Promise<void> }[] = [];

  constructor(
    private readonly onChange: (changed: ApiObject) => void,
    private readonly log: Logger,
  ) {}

  /** A new watch of `kind`, not yet started; `label` selects the same objects as `list`. */
  add<T extends ApiObject>(kc: KubeConfig, path: string, kind: ObjectKind<T>, list: RawList, label?: string): ResilientWatch<T> {
    // An object that turned unreadable left the cache: the reconcile must run without it (the watch logs why).
    const unreadable = ({ name, namespace }: UnreadableObject) => this.onChange({ metadata: { name, ...(namespace !== undefined ? { namespace } : {}), labels: {}, annotations: {} } });
    const handlers = { upsert: (o: T) => this.onChange(o), remove: (o: T) => this.onChange(o), invalid: unreadable };
    const w = new ResilientWatch<T>(kc, path, kind, list, handlers, (m) => this.log.warn(m), label ? { label } : {});
    this.watches.push(w);
    return w;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) await w.stop();
  }
}
