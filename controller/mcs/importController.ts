import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice, type V1Namespace } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import type { Logger } from 'pino';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, PEER_PLURAL, memberNamespace, type Peer } from '../clusterset/peer.js';
import { disconnectedClusters } from './sourceHealth.js';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { DNS_NAME_ANNOTATION, IMPORT_MANAGED_BY_LABEL, importMadeByFleetBoard, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER, LABEL_SOURCE_CONNECTED, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImport } from './api.js';
import { aggregateServices, type AggregatedService } from './aggregate.js';
import type { LocalImports } from './localImports.js';
import type { HubExports } from './hubExports.js';
import { placeImports, type PlacedImport } from './importPlacement.js';
import { applyPlan } from './applyPlan.js';
import { sliceContent } from './exportedSlices.js';
import { labelsAnnotationsAndSpec, objectPlan } from './objectPlan.js';
import { assignClusterSetIps } from '../ipam/clusterSetIps.js';
import type { Cidr } from '../ipam/cidr.js';

const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };

/**
 * The cluster leader's imports: for every service some cluster exports (this
 * one included), one ServiceImport in the namespace of the same name, merged
 * from every export, and the exporters' EndpointSlices beside it. A namespace
 * that does not exist here imports nothing (namespace sameness). Objects the
 * hub holds are trusted only in their cluster's own namespace.
 */
export class ImportController {
  private readonly api: { custom: CustomObjectsApi; core: CoreV1Api; discovery: DiscoveryV1Api };
  private readonly hubCustom: CustomObjectsApi;
  private readonly debouncer: Debouncer;
  private readonly watches: WatchSet;
  private hubPeers: ResilientWatch<Peer> | undefined;
  private namespaces: ResilientWatch<V1Namespace> | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly kc: KubeConfig,
    private readonly hubKc: KubeConfig,
    /** What every cluster published in the hub, shared with the exporter. */
    private readonly hubExports: HubExports,
    /** This cluster's imports and imported slices, shared with the ClusterSetIP load balancer. */
    private readonly local: LocalImports,
    /** Where services published under names of their own go when their namespace does not exist here (the agent's). */
    private readonly fallbackNamespace: string,
    /** This cluster's ID: its own endpoints are reachable whatever its hub tunnel does. */
    private readonly clusterID: string,
    /** Where this cluster's ClusterSetIPs come from (clusterSetIpRange). */
    private readonly clusterSetIps: Cidr,
    /** Told every merged service and the exports it was merged from (every cluster's, as the hub holds them), e.g. for the exports' Conflict conditions. */
    private readonly onAggregated: (services: readonly AggregatedService[], exports: readonly ServiceImport[]) => void,
    private readonly log: Logger,
  ) {
    this.api = { custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
    this.hubCustom = hubKc.makeApiClient(CustomObjectsApi);
    this.debouncer = new Debouncer(() => this.reconcile(), log, 'importing services');
    this.watches = new WatchSet(() => this.debouncer.schedule(), log);
  }

  async start(): Promise<void> {
    const peerApi = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL };
    this.hubPeers = this.watches.add<Peer>(this.hubKc, `/apis/${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}/${PEER_PLURAL}`, () => this.hubCustom.listCustomObjectForAllNamespaces(peerApi) as Promise<{ items: Peer[] }>);
    this.namespaces = this.watches.add<V1Namespace>(this.kc, '/api/v1/namespaces', () => this.api.core.listNamespace());
    for (const w of [this.hubPeers, this.namespaces]) await w.start();
    this.unsubscribe.push(this.local.subscribe(() => this.debouncer.schedule()), this.hubExports.subscribe(() => this.debouncer.schedule()));
    this.debouncer.schedule();
  }

  async stop(): Promise<void> {
    for (const stop of this.unsubscribe.splice(0)) stop();
    await this.debouncer.stop();
    await this.watches.stop();
  }

  /** The ServiceImports FleetBoard made in this cluster (a hand-written one counts once adopted). */
  imported(): number {
    return this.local.imports().filter(importMadeByFleetBoard).length;
  }

  private async reconcile(): Promise<void> {
    const present = new Set((this.namespaces?.cached() ?? []).filter((n) => !n.metadata?.deletionTimestamp).map((n) => n.metadata?.name ?? ''));
    const exports = this.hubExports.services();
    const aggregated = aggregateServices(exports);
    this.onAggregated(aggregated, exports);
    const services = placeImports(aggregated, present, this.fallbackNamespace);
    await this.importServices(services);
    await this.importSlices(services);
  }

  private async importServices(services: PlacedImport[]): Promise<void> {
    const all = this.local.imports();
    const ips = this.allocateClusterSetIps(services, all);
    const desired: ServiceImport[] = services.map((s) => {
      const ip = ips.get(`${s.at.namespace}/${s.at.name}`);
      return {
        apiVersion: `${MCS_GROUP}/${MCS_VERSION}`,
        kind: 'ServiceImport',
        // Exported labels and annotations never override the keys FleetBoard reads.
        metadata: { name: s.at.name, namespace: s.at.namespace, labels: { ...s.labels, [IMPORT_MANAGED_BY_LABEL]: MANAGED_BY }, annotations: { ...s.annotations, ...(s.dnsNames ? { [DNS_NAME_ANNOTATION]: s.dnsNames } : {}) } },
        spec: { ...s.spec, ...(ip ? { ips: [ip] } : {}) },
      };
    });
    const ours = all.filter(importMadeByFleetBoard);
    // A ServiceImport made by hand for the same service is adopted: replaced with ours, keeping its resourceVersion.
    const adoptable = all.filter((i) => !ours.includes(i) && desired.some((d) => d.metadata?.namespace === i.metadata?.namespace && d.metadata?.name === i.metadata?.name));
    const live = [...ours, ...adoptable];
    const plan = objectPlan(desired, live, labelsAnnotationsAndSpec);
    await applyPlan(plan, live, {
      create: (body) => this.api.custom.createNamespacedCustomObject({ ...importApi, namespace: body.metadata?.namespace ?? '', body }),
      replace: (body) => this.api.custom.replaceNamespacedCustomObject({ ...importApi, namespace: body.metadata?.namespace ?? '', name: body.metadata?.name ?? '', body }),
      remove: (gone) => this.api.custom.deleteNamespacedCustomObject({ ...importApi, namespace: gone.metadata?.namespace ?? '', name: gone.metadata?.name ?? '' }),
    });
    if (plan.create.length + plan.update.length + plan.remove.length > 0) {
      this.log.info({ imported: plan.create.map((i) => `${i.metadata?.namespace ?? ''}/${i.metadata?.name ?? ''}`), updated: plan.update.length, removed: plan.remove.length }, 'service imports changed');
    }
    // Which clusters export each service, as the MCS API reports it.
    const byKey = new Map(all.map((i) => [`${i.metadata?.namespace ?? ''}/${i.metadata?.name ?? ''}`, i]));
    const stale = services.filter((s) => JSON.stringify(byKey.get(`${s.at.namespace}/${s.at.name}`)?.status?.clusters ?? []) !== JSON.stringify(s.clusters.map((cluster) => ({ cluster }))));
    await eachLimited(stale, API_WRITE_CONCURRENCY, (s) =>
      this.api.custom.patchNamespacedCustomObjectStatus({ ...importApi, namespace: s.at.namespace, name: s.at.name, body: { status: { clusters: s.clusters.map((cluster) => ({ cluster })) } } }, mergePatch),
    );
  }

  /** Each ClusterSetIP import's address here: kept once recorded on the ServiceImport, which is the record. */
  private allocateClusterSetIps(services: PlacedImport[], live: readonly ServiceImport[]): Map<string, string> {
    const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;
    const recorded = new Map<string, string>();
    for (const i of live) {
      const ip = i.spec.ips?.[0];
      if (ip) recorded.set(key(i.metadata?.namespace, i.metadata?.name), ip);
    }
    const wanting = services.filter((s) => s.spec.type === 'ClusterSetIP').map((s) => key(s.at.namespace, s.at.name));
    const { assignment, exhausted } = assignClusterSetIps(this.clusterSetIps, wanting, recorded);
    for (const e of exhausted) this.log.warn({ service: e.service }, e.message);
    return assignment;
  }

  private async importSlices(services: PlacedImport[]): Promise<void> {
    const placement = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s.at]));
    const down = disconnectedClusters(this.hubPeers?.cached() ?? [], this.clusterID);
    const desired: V1EndpointSlice[] = [];
    for (const slice of this.hubExports.slices()) {
      const labels = slice.metadata?.labels ?? {};
      const cluster = labels[LABEL_SOURCE_CLUSTER];
      const namespace = labels[LABEL_SERVICE_NAMESPACE] ?? '';
      const name = labels[LABEL_SERVICE_NAME] ?? '';
      const at = placement.get(`${namespace}/${name}`);
      if (!cluster || slice.metadata?.namespace !== memberNamespace(cluster) || !at) continue;
      desired.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        // Not labelled kubernetes.io/service-name: no local Service may pick these up.
        metadata: { name: slice.metadata.name ?? '', namespace: at.namespace, labels: { [LABEL_SERVICE_NAME]: at.name, [LABEL_SOURCE_CLUSTER]: cluster, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SOURCE_CONNECTED]: String(!down.has(cluster)) } },
        addressType: slice.addressType,
        endpoints: slice.endpoints,
        ...(slice.ports ? { ports: slice.ports } : {}),
      });
    }
    const live = this.local.slices();
    const plan = objectPlan(desired, live, sliceContent);
    await applyPlan(plan, live, {
      create: (body) => this.api.discovery.createNamespacedEndpointSlice({ namespace: body.metadata?.namespace ?? '', body }),
      replace: (body) => this.api.discovery.replaceNamespacedEndpointSlice({ namespace: body.metadata?.namespace ?? '', name: body.metadata?.name ?? '', body }),
      remove: (gone) => this.api.discovery.deleteNamespacedEndpointSlice({ namespace: gone.metadata?.namespace ?? '', name: gone.metadata?.name ?? '' }),
    });
  }
}
