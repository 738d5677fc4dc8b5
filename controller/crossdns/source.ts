import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LABEL_SERVICE_NAME, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImport } from '../mcs/api.js';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { Debouncer } from '../tunnel/debouncer.js';
import type { IndexInput } from './zoneIndex.js';

/**
 * What crossdns answers from: the cluster's ServiceImports and imported
 * EndpointSlices (every namespace), watched. `onChange` gets all of them
 * once both watches have synced, then after every burst of changes.
 */
export class ImportSource {
  private readonly watches: WatchSet;
  private readonly debouncer: Debouncer;
  private imports: ResilientWatch<ServiceImport> | undefined;
  private slices: ResilientWatch<V1EndpointSlice> | undefined;
  private synced = false;

  constructor(
    private readonly kc: KubeConfig,
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
    this.watches = new WatchSet(() => {
      if (this.synced) this.debouncer.schedule();
    }, log);
  }

  /** Resolves once both watches have listed and `onChange` has seen the result. */
  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };
    this.imports = this.watches.add<ServiceImport>(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_IMPORT_PLURAL}`, () => custom.listCustomObjectForAllNamespaces(importApi) as Promise<{ items: ServiceImport[] }>);
    this.slices = this.watches.add<V1EndpointSlice>(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: LABEL_SERVICE_NAME }), LABEL_SERVICE_NAME);
    await this.imports.start();
    await this.slices.start();
    this.synced = true;
    this.publish();
  }

  async stop(): Promise<void> {
    await this.debouncer.stop();
    await this.watches.stop();
  }

  private publish(): void {
    this.onChange({ imports: this.imports?.cached() ?? [], slices: this.slices?.cached() ?? [] });
  }
}
