import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RawList, ResilientWatch } from '../kube/resilientWatch.js';
import { SharedWatches } from '../kube/sharedWatches.js';
import { LABEL_MANAGED_BY, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL } from './api.js';
import { EndpointSliceKind, type EndpointSlice } from '../objects/discovery.js';
import { ServiceImportKind, type ServiceImport } from '../objects/mcs.js';

/**
 * This cluster's ServiceImports and the EndpointSlices FleetBoard imported,
 * watched once per cnf pod and shared by whoever needs them (the ClusterSetIP
 * load balancer on every node, the importer on the leader).
 */
export class LocalImports extends SharedWatches {
  private importWatch: ResilientWatch<ServiceImport> | undefined;
  private sliceWatch: ResilientWatch<EndpointSlice> | undefined;

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
    this.importWatch = this.watches.add(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_IMPORT_PLURAL}`, ServiceImportKind, () => custom.listCustomObjectForAllNamespaces(importApi) as ReturnType<RawList>);
    this.sliceWatch = this.watches.add(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', EndpointSliceKind, () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: managed }), managed);
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
  slices(): readonly EndpointSlice[] {
    return this.sliceWatch?.cached() ?? [];
  }
}
