import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import type { Logger } from 'pino';
import { decodePodNetwork } from '../ipam/annotations.js';
import { apiErrorDetail, isNotFound } from '../kube/apiErrors.js';
import { ObjectRetries } from '../kube/objectRetries.js';
import type { RawList, ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { PodMetadataKind, ServiceKind, type PodMetadata, type Service } from '../objects/core.js';
import { EndpointSliceKind, type EndpointSlice } from '../objects/discovery.js';
import type { Condition } from '../objects/fields.js';
import { ServiceExportKind, type ServiceExport, type ServiceImport } from '../objects/mcs.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { EXPORT_READY, LABEL_SOURCE_CLUSTER, MCS_GROUP, MCS_VERSION, SERVICE_EXPORT_PLURAL, SERVICE_IMPORT_PLURAL, type ServiceImportBody } from './api.js';
import { sliceContent } from './exportedSlices.js';
import { withCondition, type ConditionVerdict } from './exportValidity.js';
import { applyPlan, failuresByOwner, type ObjectWrites, type WriteFailure } from './applyPlan.js';
import { canonicalJson, labelsAnnotationsAndSpec, namespacedName, objectKey, objectPlan, type ObjectPlan } from './objectPlan.js';
import type { AggregatedService, DescribedExport } from './aggregate.js';
import { conflictVerdict } from './exportConflict.js';
import { planExports, publishedExportKey, SERVICE_SLICES, type ExportsPlan } from './exportPlan.js';
import type { HubExports } from './hubExports.js';

const api = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_EXPORT_PLURAL };

const summary = (p: ObjectPlan<unknown, unknown>) => ({ created: p.create.length, updated: p.update.length, removed: p.remove.length });

/** A pod's global address; none while its annotations are missing or malformed (the node's controller reports those). */
function globalAddress(pod: PodMetadata): string | undefined {
  try {
    return decodePodNetwork(pod.metadata.annotations)?.ipAddress;
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

/** What the exporter reads of an object it published, whichever way it came. */
type Named = { metadata: { name: string; namespace?: string | undefined; labels: Record<string, string> } };

/** Of what the hub holds, the objects this cluster published (in its namespace, labelled with its ID). */
function ownedBy<T extends ServiceImport | EndpointSlice>(hub: ExportHub, objects: readonly T[]): T[] {
  return objects.filter((o) => o.metadata.namespace === hub.namespace && o.metadata.labels[LABEL_SOURCE_CLUSTER] === hub.clusterID);
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
  private services: ResilientWatch<Service> | undefined;
  private slices: ResilientWatch<EndpointSlice> | undefined;
  /** Only the pods' metadata: the global address is an annotation. */
  private pods: ResilientWatch<PodMetadata> | undefined;
  private hub: PublishingHub | undefined;
  /** The Conflict verdicts of our exports when the importer last merged the clusterset, to notice changes. */
  private conflicts = new Map<string, ConditionVerdict>();
  /** Every cluster's published exports, as the importer last saw them in the hub. */
  private clusterSetExports: readonly DescribedExport[] | undefined;
  /** Exports that could not be published, and exports whose status could not be written: each retried on its own. */
  private readonly publishRetries = new ObjectRetries();
  private readonly statusRetries = new ObjectRetries();
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
    this.exports = this.watches.add(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_EXPORT_PLURAL}`, ServiceExportKind, () => this.custom.listCustomObjectForAllNamespaces(api) as ReturnType<RawList>);
    this.services = this.watches.add(this.kc, '/api/v1/services', ServiceKind, () => this.core.listServiceForAllNamespaces());
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
      this.slices = this.watches.add(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', EndpointSliceKind, () => this.discovery.listEndpointSliceForAllNamespaces({ labelSelector: SERVICE_SLICES }), SERVICE_SLICES);
      this.pods = this.watches.add(this.kc, '/api/v1/pods', PodMetadataKind, () => this.core.listPodForAllNamespaces());
      await this.slices.start();
      await this.pods.start();
    }
    const previous = this.hub;
    // Only our own namespace's changes concern the exporter; the importer follows the rest.
    const unsubscribe = hub.published.subscribe((changed) => {
      if (changed.metadata.namespace === hub.namespace) this.debouncer.schedule();
    });
    this.hub = { ...hub, discovery: hub.kc.makeApiClient(DiscoveryV1Api), custom: hub.kc.makeApiClient(CustomObjectsApi), unsubscribe };
    previous?.unsubscribe();
    this.debouncer.schedule();
  }

  /**
   * What the clusterset makes of every exported service (the importer merges
   * them from `exports`, every cluster's): conflicts show on our exports.
   */
  clusterSetChanged(services: readonly AggregatedService[], exports: readonly DescribedExport[]): void {
    this.clusterSetExports = exports;
    const clusterID = this.hub?.clusterID;
    const next = new Map(services.filter((s) => clusterID !== undefined && s.clusters.includes(clusterID)).map((s) => [namespacedName(s.namespace, s.name), conflictVerdict(s)]));
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
    const hub = this.hub;
    const exports = this.exports?.cached() ?? [];
    const present = new Set(exports.map(objectKey));
    this.publishRetries.keepOnly(present);
    this.statusRetries.keepOnly(present);
    // An export, or its Service, that cannot be read still exists: what was published for it stays as it is.
    const unreadable = new Set([...(this.exports?.unreadable() ?? []), ...(this.services?.unreadable() ?? [])].map((u) => namespacedName(u.namespace, u.name)));
    const leftAlone = (key: string) => this.publishRetries.waiting(key) || unreadable.has(key);
    const globalIps = new Map((this.pods?.cached() ?? []).map((p) => [objectKey(p), globalAddress(p)]));
    const plan = planExports({
      exports,
      services: this.services?.cached() ?? [],
      slices: this.slices?.cached() ?? [],
      globalAddressOf: (ns, pod) => globalIps.get(namespacedName(ns, pod)),
      hub,
      clusterSetExports: this.clusterSetExports,
      waiting: leftAlone,
    });
    const verdicts = plan.verdicts;
    const failed = [...plan.failed, ...(hub ? await this.publish(hub, plan, leftAlone) : [])];
    const failedKeys = new Set(failed.map((f) => f.key));
    for (const key of verdicts.keys()) if (!failedKeys.has(key)) this.publishRetries.succeeded(key);
    for (const f of failed) this.publishFailed(verdicts, f.key, f.message);
    // An export waiting for its retry keeps what it was last judged (its failure).
    for (const key of present) {
      const before = this.verdicts.get(key);
      if (!verdicts.has(key) && before) verdicts.set(key, [...before]);
    }
    this.verdicts = verdicts;
    await this.writeConditions(verdicts);
    const next = Math.min(this.publishRetries.nextRetryIn() ?? Infinity, this.statusRetries.nextRetryIn() ?? Infinity);
    if (next !== Infinity) this.debouncer.retryIn(next);
  }

  /** One export could not be planned or published: it says so, and is tried again on its own after a backoff. */
  private publishFailed(verdicts: Map<string, ConditionVerdict[]>, key: string, message: string): void {
    const wait = this.publishRetries.failed(key, message);
    this.log.warn({ export: key, err: message, retryInMs: wait }, 'cannot publish the ServiceExport to the hub; retrying it');
    const found = (verdicts.get(key) ?? []).filter((v) => v.type !== EXPORT_READY);
    found.push({ type: EXPORT_READY, status: 'False', reason: 'PublishFailed', message: `${message}; retrying in ${Math.round(wait / 1000)} s` });
    verdicts.set(key, found);
  }

  /**
   * Makes the cluster's hub namespace hold exactly the planned exports'
   * services and slices, leaving alone those of exports that wait for a retry;
   * returns the exports whose objects could not be written.
   */
  private async publish(hub: PublishingHub, plan: ExportsPlan, leftAlone: (key: string) => boolean): Promise<{ key: string; message: string }[]> {
    const namespace = hub.namespace;
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL, namespace };
    const handled = (o: { metadata: { labels: Record<string, string> } }) => !leftAlone(publishedExportKey(o));
    const liveServices = ownedBy(hub, hub.published.services()).filter(handled);
    const servicePlan = objectPlan(plan.services, liveServices, labelsAnnotationsAndSpec);
    const serviceWrites: ObjectWrites<ServiceImportBody, ServiceImport> = {
      create: (body) => hub.custom.createNamespacedCustomObject({ ...importApi, body }),
      replace: (body) => hub.custom.replaceNamespacedCustomObject({ ...importApi, name: body.metadata.name, body }),
      remove: (live) => hub.custom.deleteNamespacedCustomObject({ ...importApi, name: live.metadata.name }),
    };
    // A service is described before its endpoints appear and removed after they went, so an importer never sees endpoints it cannot place.
    const byExport = new Map<string, string>();
    let failures = 0;
    const note = (kind: string) => (written: WriteFailure<Named, Named>[]) => {
      failures += written.length;
      failuresByOwner(kind, written, publishedExportKey, byExport);
    };
    note('ServiceImport')(await applyPlan({ ...servicePlan, remove: [] }, liveServices, serviceWrites));
    const liveSlices = ownedBy(hub, hub.published.slices()).filter(handled);
    const slicePlan = objectPlan(plan.slices, liveSlices, sliceContent);
    note('EndpointSlice')(
      await applyPlan(slicePlan, liveSlices, {
        create: (body) => hub.discovery.createNamespacedEndpointSlice({ namespace, body }),
        replace: (body) => hub.discovery.replaceNamespacedEndpointSlice({ namespace, name: body.metadata.name, body }),
        remove: (live) => hub.discovery.deleteNamespacedEndpointSlice({ namespace, name: live.metadata.name }),
      }),
    );
    note('ServiceImport')(await applyPlan({ create: [], update: [], remove: servicePlan.remove }, liveServices, serviceWrites));
    const changes = (p: ObjectPlan<unknown, unknown>) => p.create.length + p.update.length + p.remove.length;
    if (changes(servicePlan) + changes(slicePlan) > failures) {
      this.log.info({ services: summary(servicePlan), slices: summary(slicePlan), failed: failures }, 'exports published to the hub');
    }
    return [...byExport].map(([key, message]) => ({ key, message }));
  }

  /** Writes each export's conditions where they changed; one whose write fails is retried on its own with backoff. */
  private async writeConditions(verdicts: ReadonlyMap<string, ConditionVerdict[]>): Promise<void> {
    const writes: { namespace: string; name: string; conditions: Condition[]; said: string; over: string }[] = [];
    const current = new Set<string>();
    for (const exp of this.exports?.cached() ?? []) {
      const namespace = exp.metadata.namespace ?? '';
      const name = exp.metadata.name;
      const resourceVersion = exp.metadata.resourceVersion ?? '';
      const k = namespacedName(namespace, name);
      current.add(k);
      if (this.statusRetries.waiting(k)) continue;
      let conditions: Condition[] = exp.status.conditions;
      let changed = false;
      for (const verdict of verdicts.get(k) ?? []) {
        const next = withCondition(conditions, verdict, exp.metadata.generation, new Date());
        if (next) [conditions, changed] = [next, true];
      }
      if (!changed) continue;
      const said = canonicalJson(conditions.map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration]));
      const last = this.written.get(k);
      // The cache still shows the export as it was before our last write, which said this already.
      if (last?.said === said && last.over === resourceVersion) continue;
      writes.push({ namespace, name, conditions, said, over: resourceVersion });
    }
    for (const k of this.written.keys()) if (!current.has(k)) this.written.delete(k);
    await eachLimited(writes, API_WRITE_CONCURRENCY, async ({ namespace, name, conditions, said, over }) => {
      const k = namespacedName(namespace, name);
      try {
        await this.custom.patchNamespacedCustomObjectStatus({ ...api, namespace, name, body: { status: { conditions } } }, mergePatch);
        this.written.set(k, { said, over });
        this.statusRetries.succeeded(k);
      } catch (err) {
        if (isNotFound(err)) return; // deleted meanwhile: nothing to report on
        const wait = this.statusRetries.failed(k, apiErrorDetail(err));
        this.log.warn({ export: k, err: apiErrorDetail(err), retryInMs: wait }, 'cannot write the ServiceExport\'s status; retrying it');
      }
    });
  }
}
