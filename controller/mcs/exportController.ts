import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type KubernetesObject, type V1EndpointSlice, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import type { Logger } from 'pino';
import { decodePodNetwork } from '../ipam/annotations.js';
import { apiErrorDetail, isNotFound } from '../kube/apiErrors.js';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { EXPORT_READY, LABEL_SOURCE_CLUSTER, MCS_GROUP, MCS_VERSION, SERVICE_EXPORT_PLURAL, SERVICE_IMPORT_PLURAL, type McsCondition, type ServiceExport, type ServiceImport } from './api.js';
import { exportedSlices, sliceContent } from './exportedSlices.js';
import { exportValidity, withCondition, type ConditionVerdict } from './exportValidity.js';
import { exportedService } from './exportedService.js';
import { applyPlan, type ObjectWrites } from './applyPlan.js';
import { canonicalJson, labelsAnnotationsAndSpec, objectPlan, type ObjectPlan } from './objectPlan.js';
import { aggregateServices, type AggregatedService } from './aggregate.js';
import { conflictVerdict } from './exportConflict.js';
import type { HubExports } from './hubExports.js';

const api = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_EXPORT_PLURAL };
const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;
/** Selects the EndpointSlices Kubernetes keeps for a Service. */
const SERVICE_SLICES = 'kubernetes.io/service-name';

const summary = (p: ObjectPlan<unknown>) => ({ created: p.create.length, updated: p.update.length, removed: p.remove.length });

/** A pod's global address; none while its annotations are missing or malformed (the node's controller reports those). */
function globalAddress(pod: V1Pod): string | undefined {
  try {
    return decodePodNetwork(pod.metadata?.annotations)?.ipAddress;
  } catch {
    return undefined;
  }
}

/** The hub as the exporter uses it: API clients, and its subscription to what was published. */
interface PublishingHub extends ExportHub {
  discovery: DiscoveryV1Api;
  custom: CustomObjectsApi;
  unsubscribe: () => void;
}

/** Where this cluster publishes its exports: its own namespace in the hub. */
export interface ExportHub {
  kc: KubeConfig;
  clusterID: string;
  namespace: string;
  /** What every cluster published there (this one's share is in `namespace`), followed by watches shared with the importer. */
  published: HubExports;
}

/** Of what the hub holds, the objects this cluster published (in its namespace, labelled with its ID). */
function ownedBy<T extends KubernetesObject>(hub: ExportHub, objects: readonly T[]): T[] {
  return objects.filter((o) => o.metadata?.namespace === hub.namespace && o.metadata.labels?.[LABEL_SOURCE_CLUSTER] === hub.clusterID);
}

/** The pod cache keeps what the exporter reads (names and the global address annotation), not whole pods. */
function podAddressOnly(pod: V1Pod): V1Pod {
  delete pod.spec;
  delete pod.status;
  return pod;
}

/**
 * The cluster leader's exports. Always: each ServiceExport's `Valid`
 * condition follows its Service. Once joined to a hub: the EndpointSlices of
 * every valid export, with the pods' global addresses, are kept in the
 * cluster's hub namespace (and removed when the export goes), and `Ready`
 * says whether every endpoint could be published.
 */
export class ExportController {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly debouncer: Debouncer;
  private readonly watches: WatchSet;
  private exports: ResilientWatch<ServiceExport> | undefined;
  private services: ResilientWatch<V1Service> | undefined;
  private slices: ResilientWatch<V1EndpointSlice> | undefined;
  private pods: ResilientWatch<V1Pod> | undefined;
  private hub: PublishingHub | undefined;
  /** The Conflict verdicts of our exports when the importer last merged the clusterset, to notice changes. */
  private conflicts = new Map<string, ConditionVerdict>();
  /** Every cluster's published exports, as the importer last saw them in the hub. */
  private clusterSetExports: readonly ServiceImport[] | undefined;
  /** Each export's conditions as the last reconcile judged them. */
  private verdicts: ReadonlyMap<string, readonly ConditionVerdict[]> = new Map();
  /**
   * Each export's conditions as last written (without times) and the
   * resourceVersion they were written over: until the watch delivers our
   * write, the cache shows the old status, which must not cause the write again.
   */
  private readonly written = new Map<string, { said: string; over: string }>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly log: Logger,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
    this.debouncer = new Debouncer(() => this.reconcile(), log, 'handling ServiceExports');
    this.watches = new WatchSet(() => this.debouncer.schedule(), log);
  }

  async start(): Promise<void> {
    this.exports = this.watches.add<ServiceExport>(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_EXPORT_PLURAL}`, () => this.custom.listCustomObjectForAllNamespaces(api) as Promise<{ items: ServiceExport[] }>);
    this.services = this.watches.add<V1Service>(this.kc, '/api/v1/services', () => this.core.listServiceForAllNamespaces());
    await this.exports.start();
    await this.services.start();
    this.debouncer.schedule();
  }

  /**
   * Publishes to the hub from now on, through `hub.kc` (called again with a
   * renewed token); the slices and pods it needs are followed from the first call.
   */
  async publishTo(hub: ExportHub): Promise<void> {
    if (!this.slices) {
      this.slices = this.watches.add<V1EndpointSlice>(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', () => this.discovery.listEndpointSliceForAllNamespaces({ labelSelector: SERVICE_SLICES }), SERVICE_SLICES);
      this.pods = this.watches.add<V1Pod>(this.kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces(), undefined, podAddressOnly);
      await this.slices.start();
      await this.pods.start();
    }
    const previous = this.hub;
    // Only our own namespace's changes concern the exporter; the importer follows the rest.
    const unsubscribe = hub.published.subscribe((changed) => {
      if (changed.metadata?.namespace === hub.namespace) this.debouncer.schedule();
    });
    this.hub = { ...hub, discovery: hub.kc.makeApiClient(DiscoveryV1Api), custom: hub.kc.makeApiClient(CustomObjectsApi), unsubscribe };
    previous?.unsubscribe();
    this.debouncer.schedule();
  }

  /**
   * What the clusterset makes of every exported service (the importer merges
   * them from `exports`, every cluster's): conflicts show on our exports.
   */
  clusterSetChanged(services: readonly AggregatedService[], exports: readonly ServiceImport[]): void {
    this.clusterSetExports = exports;
    const clusterID = this.hub?.clusterID;
    const next = new Map(services.filter((s) => clusterID !== undefined && s.clusters.includes(clusterID)).map((s) => [key(s.namespace, s.name), conflictVerdict(s)]));
    if (JSON.stringify([...next]) === JSON.stringify([...this.conflicts])) return;
    this.conflicts = next;
    this.debouncer.schedule();
  }

  async stop(): Promise<void> {
    await this.debouncer.stop();
    await this.watches.stop();
    this.hub?.unsubscribe();
  }

  /** Each ServiceExport's conditions (Valid, and once joined Ready and Conflict) as last judged, for metrics. */
  conditions(): readonly (readonly ConditionVerdict[])[] {
    return [...this.verdicts.values()];
  }

  private async reconcile(): Promise<void> {
    const services = new Map((this.services?.cached() ?? []).map((s) => [key(s.metadata?.namespace, s.metadata?.name), s]));
    const verdicts = new Map<string, ConditionVerdict[]>();
    const desired: V1EndpointSlice[] = [];
    const described: ServiceImport[] = [];
    const hub = this.hub;
    const slicesByService = new Map<string, V1EndpointSlice[]>();
    for (const s of this.slices?.cached() ?? []) {
      const service = key(s.metadata?.namespace, s.metadata?.labels?.[SERVICE_SLICES]);
      slicesByService.set(service, [...(slicesByService.get(service) ?? []), s]);
    }
    const globalIps = new Map((this.pods?.cached() ?? []).map((p) => [key(p.metadata?.namespace, p.metadata?.name), globalAddress(p)]));
    for (const exp of this.exports?.cached() ?? []) {
      const namespace = exp.metadata?.namespace ?? '';
      const name = exp.metadata?.name ?? '';
      const service = services.get(key(namespace, name));
      const valid = exportValidity(namespace, name, service);
      const found: ConditionVerdict[] = [valid];
      if (hub && service && valid.status === 'True') {
        described.push(exportedService(hub.clusterID, hub.namespace, service, exp));
        const local = slicesByService.get(key(namespace, name)) ?? [];
        const exported = exportedSlices(hub.clusterID, hub.namespace, { namespace, name }, local, (ns, pod) => globalIps.get(key(ns, pod)));
        desired.push(...exported.slices);
        const endpoints = exported.slices.reduce((n, s) => n + s.endpoints.length, 0);
        found.push(
          exported.withoutGlobalAddress === 0
            ? { type: EXPORT_READY, status: 'True', reason: 'Exported', message: `${endpoints} endpoint(s) published to the clusterset` }
            : { type: EXPORT_READY, status: 'False', reason: 'Pending', message: `${exported.withoutGlobalAddress} endpoint(s) have no global address yet; ${endpoints} published` },
        );
      }
      verdicts.set(key(namespace, name), found);
    }
    // Judged against what we publish now, not what the hub last echoed, so an
    // export's first status already says whether it conflicts: one write, not two.
    if (hub && this.clusterSetExports) {
      const others = this.clusterSetExports.filter((d) => d.metadata?.labels?.[LABEL_SOURCE_CLUSTER] !== hub.clusterID);
      for (const s of aggregateServices([...others, ...described])) {
        if (s.clusters.includes(hub.clusterID)) verdicts.get(key(s.namespace, s.name))?.push(conflictVerdict(s));
      }
    }
    this.verdicts = verdicts;
    if (hub) await this.publish(hub, described, desired);
    await this.writeConditions(verdicts);
  }

  /** Makes the cluster's hub namespace hold exactly these exported services and slices. */
  private async publish(hub: PublishingHub, services: ServiceImport[], slices: V1EndpointSlice[]): Promise<void> {
    const namespace = hub.namespace;
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL, namespace };
    const liveServices = ownedBy(hub, hub.published.services());
    const servicePlan = objectPlan(services, liveServices, labelsAnnotationsAndSpec);
    const serviceWrites: ObjectWrites<ServiceImport> = {
      create: (body) => hub.custom.createNamespacedCustomObject({ ...importApi, body }),
      replace: (body) => hub.custom.replaceNamespacedCustomObject({ ...importApi, name: body.metadata?.name ?? '', body }),
      remove: (live) => hub.custom.deleteNamespacedCustomObject({ ...importApi, name: live.metadata?.name ?? '' }),
    };
    // A service is described before its endpoints appear and removed after they went, so an importer never sees endpoints it cannot place.
    await applyPlan({ ...servicePlan, remove: [] }, liveServices, serviceWrites);
    const liveSlices = ownedBy(hub, hub.published.slices());
    const slicePlan = objectPlan(slices, liveSlices, sliceContent);
    await applyPlan(slicePlan, liveSlices, {
      create: (body) => hub.discovery.createNamespacedEndpointSlice({ namespace, body }),
      replace: (body) => hub.discovery.replaceNamespacedEndpointSlice({ namespace, name: body.metadata?.name ?? '', body }),
      remove: (live) => hub.discovery.deleteNamespacedEndpointSlice({ namespace, name: live.metadata?.name ?? '' }),
    });
    await applyPlan({ create: [], update: [], remove: servicePlan.remove }, liveServices, serviceWrites);
    const changes = (p: ObjectPlan<unknown>) => p.create.length + p.update.length + p.remove.length;
    if (changes(servicePlan) + changes(slicePlan) > 0) {
      this.log.info({ services: summary(servicePlan), slices: summary(slicePlan) }, 'exports published to the hub');
    }
  }

  private async writeConditions(verdicts: ReadonlyMap<string, ConditionVerdict[]>): Promise<void> {
    const writes: { namespace: string; name: string; conditions: McsCondition[]; said: string; over: string }[] = [];
    const current = new Set<string>();
    for (const exp of this.exports?.cached() ?? []) {
      const namespace = exp.metadata?.namespace ?? '';
      const name = exp.metadata?.name ?? '';
      const resourceVersion = exp.metadata?.resourceVersion ?? '';
      current.add(key(namespace, name));
      let conditions: McsCondition[] | undefined = exp.status?.conditions;
      let changed = false;
      for (const verdict of verdicts.get(key(namespace, name)) ?? []) {
        const next = withCondition(conditions, verdict, exp.metadata?.generation, new Date());
        if (next) [conditions, changed] = [next, true];
      }
      if (!changed || !conditions) continue;
      const said = canonicalJson(conditions.map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration]));
      const last = this.written.get(key(namespace, name));
      // The cache still shows the export as it was before our last write, which said this already.
      if (last?.said === said && last.over === resourceVersion) continue;
      writes.push({ namespace, name, conditions, said, over: resourceVersion });
    }
    for (const k of this.written.keys()) if (!current.has(k)) this.written.delete(k);
    let failed = 0;
    await eachLimited(writes, API_WRITE_CONCURRENCY, async ({ namespace, name, conditions, said, over }) => {
      try {
        await this.custom.patchNamespacedCustomObjectStatus({ ...api, namespace, name, body: { status: { conditions } } }, mergePatch);
        this.written.set(key(namespace, name), { said, over });
      } catch (err) {
        if (isNotFound(err)) return; // deleted meanwhile: nothing to report on
        failed += 1;
        this.log.warn({ export: key(namespace, name), err: apiErrorDetail(err) }, 'cannot write the ServiceExport\'s status');
      }
    });
    // The debouncer retries: the watch caches hold what is still to write.
    if (failed > 0) throw new Error(`${failed} ServiceExport status writes failed`);
  }
}
