import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { SharedWatches } from '../kube/sharedWatches.js';
import { LABEL_MANAGED_BY, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImport } from './api.js';

/**
 * This cluster's ServiceImports and the EndpointSlices FleetBoard imported,
 * watched once per cnf pod and shared by whoever needs them (the ClusterSetIP
 * load balancer on every node, the importer on the leader).
 */
export class LocalImports extends SharedWatches {
  private importWatch: ResilientWatch<ServiceImport> | undefined;
  private sliceWatch: ResilientWatch<V1EndpointSlice> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    log: Logger,
  ) {
    super(log);
  }

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };
    this.importWatch = this.watches.add<ServiceImport>(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_IMPORT_PLURAL}`, () => custom.listCustomObjectForAllNamespaces(importApi) as Promise<{ items: ServiceImport[] }>);
    this.sliceWatch = this.watches.add<V1EndpointSlice>(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: managed }), managed);
    await this.startAll(this.importWatch, this.sliceWatch);
  }

  /** Whether both watches have listed what exists. */
  synced(): boolean {
    return (this.importWatch?.synced ?? false) && (this.sliceWatch?.synced ?? false);
  }

  /** Every ServiceImport here, made by FleetBoard or by hand. */
  imports(): readonly ServiceImport[] {
    return this.importWatch?.cached() ?? [];
  }

  /** The EndpointSlices FleetBoard imported (managed by fleetboard.io). */
  slices(): readonly V1EndpointSlice[] {
    return this.sliceWatch?.cached() ?? [];
  }
}
