import type { Logger } from 'pino';
import type { LocalImports } from '../mcs/localImports.js';
import { Debouncer } from '../tunnel/debouncer.js';
import type { IndexInput } from './zoneIndex.js';

/**
 * What crossdns answers from: the cluster's ServiceImports and imported
 * EndpointSlices (every namespace), as LocalImports watches them. `onChange`
 * gets all of them once both watches have synced, then after every burst of changes.
 */
export class ImportSource {
  private readonly debouncer: Debouncer;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly local: LocalImports,
    private readonly onChange: (input: IndexInput) => void,
    log: Logger,
  ) {
    this.debouncer = new Debouncer(
      () => {
        this.publish();
        return Promise.resolve();
      },
      log,
      'rebuilding the DNS index',
    );
  }

  /** Resolves once both watches have listed and `onChange` has seen the result. */
  async start(): Promise<void> {
    await this.local.start();
    this.unsubscribe = this.local.subscribe(() => this.debouncer.schedule());
    this.publish();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.debouncer.stop();
    await this.local.stop();
  }

  private publish(): void {
    this.onChange({ imports: this.local.imports(), slices: this.local.slices() });
  }
}
