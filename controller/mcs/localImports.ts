import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { LABEL_MANAGED_BY, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImport } from './api.js';

/**
 * This cluster's ServiceImports and the EndpointSlices FleetBoard imported,
 * watched once per cnf pod and shared by whoever needs them (the ClusterSetIP
 * load balancer on every node, the importer on the leader): at 1000 services
 * each copy of these caches costs tens of megabytes.
 */
export class LocalImports {
  private readonly listeners = new Set<() => void>();
  private readonly watches: WatchSet;
  private importWatch: ResilientWatch<ServiceImport> | undefined;
  private sliceWatch: ResilientWatch<V1EndpointSlice> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    log: Logger,
  ) {
    this.watches = new WatchSet(() => {
      for (const changed of this.listeners) changed();
    }, log);
  }

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };
    this.importWatch = this.watches.add<ServiceImport>(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_IMPORT_PLURAL}`, () => custom.listCustomObjectForAllNamespaces(importApi) as Promise<{ items: ServiceImport[] }>);
    this.sliceWatch = this.watches.add<V1EndpointSlice>(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: managed }), managed);
    await this.importWatch.start();
    await this.sliceWatch.start();
  }

  async stop(): Promise<void> {
    await this.watches.stop();
  }

  /** Calls `changed` on every change from now on; returns how to stop. */
  subscribe(changed: () => void): () => void {
    this.listeners.add(changed);
    return () => this.listeners.delete(changed);
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
