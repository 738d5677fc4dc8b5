import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RawList, ResilientWatch } from '../kube/resilientWatch.js';
import { SharedWatches } from '../kube/sharedWatches.js';
import { LABEL_MANAGED_BY, LABEL_SOURCE_CLUSTER, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL } from './api.js';
import { EndpointSliceKind, type EndpointSlice } from '../objects/discovery.js';
import { ServiceImportKind, type ServiceImport } from '../objects/mcs.js';

/**
 * What every cluster published in the hub (exported services and their
 * EndpointSlices, in all the clusters' namespaces), watched once per leader
 * and shared by the importer, which merges them, and the exporter, which
 * keeps its own namespace's share.
 */
export class HubExports extends SharedWatches {
  private serviceWatch: ResilientWatch<ServiceImport> | undefined;
  private sliceWatch: ResilientWatch<EndpointSlice> | undefined;

  constructor(
    private readonly hubKc: KubeConfig,
    log: Logger,
  ) {
    super(log);
  }

  async start(): Promise<void> {
    const custom = this.hubKc.makeApiClient(CustomObjectsApi);
    const discovery = this.hubKc.makeApiClient(DiscoveryV1Api);
    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };
    this.serviceWatch = this.watches.add(this.hubKc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_IMPORT_PLURAL}`, ServiceImportKind, () => custom.listCustomObjectForAllNamespaces({ ...importApi, labelSelector: LABEL_SOURCE_CLUSTER }) as ReturnType<RawList>, LABEL_SOURCE_CLUSTER);
    this.sliceWatch = this.watches.add(this.hubKc, '/apis/discovery.k8s.io/v1/endpointslices', EndpointSliceKind, () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: managed }), managed);
    await this.startAll(this.serviceWatch, this.sliceWatch);
  }

  /** Every cluster's exported services (labelled with their source cluster), whatever namespace holds them. */
  services(): readonly ServiceImport[] {
    return this.serviceWatch?.cached() ?? [];
  }

  /** Every cluster's exported EndpointSlices (managed by fleetboard.io). */
  slices(): readonly EndpointSlice[] {
    return this.sliceWatch?.cached() ?? [];
  }
}
