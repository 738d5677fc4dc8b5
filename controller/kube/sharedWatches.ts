import type { ApiObject } from '../objects/fields.js';
import type { Logger } from 'pino';
import { WatchSet } from './watchSet.js';

/**
 * Watch caches kept once per process and read by several controllers, each
 * subscribed to every change: at 1000 services a second copy of such caches
 * costs megabytes. Subclasses add their watches to `watches` and start them
 * with `startAll`.
 */
export class SharedWatches {
  private readonly listeners = new Set<(changed: ApiObject) => void>();
  protected readonly watches: WatchSet;

  constructor(log: Logger) {
    this.watches = new WatchSet((changed) => {
      for (const listener of this.listeners) listener(changed);
    }, log);
  }

  /** Calls `listener` with each object that changes from now on; returns how to stop. */
  subscribe(listener: (changed: ApiObject) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    await this.watches.stop();
  }

  /** Starts the watches in turn; if one cannot list, all are stopped again. */
  protected async startAll(...watches: { start(): Promise<void> }[]): Promise<void> {
    try {
      for (const w of watches) await w.start();
    } catch (err) {
      await this.watches.stop();
      throw err;
    }
  }
}
