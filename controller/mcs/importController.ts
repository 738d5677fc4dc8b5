import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import type { Logger } from 'pino';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, PEER_PLURAL, memberNamespace } from '../clusterset/peer.js';
import { apiErrorDetail } from '../kube/apiErrors.js';
import type { EventRecorder } from '../kube/events.js';
import { ObjectRetries } from '../kube/objectRetries.js';
import type { RawList, ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { NamespaceKind, type Namespace } from '../objects/core.js';
import { PeerKind, type Peer } from '../objects/fleetboard.js';
import type { ServiceImport } from '../objects/mcs.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { disconnectedClusters } from './sourceHealth.js';
import { DNS_NAME_ANNOTATION, IMPORT_MANAGED_BY_LABEL, importMadeByFleetBoard, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER, LABEL_SOURCE_CONNECTED, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImportBody } from './api.js';
import { aggregateServices, exportProblem, type AggregatedService, type DescribedExport } from './aggregate.js';
import type { LocalImports } from './localImports.js';
import { ProblemLog } from '../problemLog.js';
import type { HubExports } from './hubExports.js';
import { placeImports, type PlacedImport } from './importPlacement.js';
import { applyPlan, failuresByOwner } from './applyPlan.js';
import { endpointBody, portBody, sliceContent, statedConditions, type SliceBody } from './exportedSlices.js';
import { labelsAnnotationsAndSpec, namespacedName, objectKey, objectPlan } from './objectPlan.js';
import { assignClusterSetIps } from '../ipam/clusterSetIps.js';
import type { Cidr } from '../ipam/cidr.js';

const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };
/** The import an imported EndpointSlice belongs to (it sits beside it, labelled with its name). */
/** Where a placed import lives here, `namespace/name`. */
const atKey = (s: PlacedImport) => namespacedName(s.at.namespace, s.at.name);
const sliceImportKey = (s: { metadata: { namespace?: string | undefined; labels: Record<string, string> } }) => namespacedName(s.metadata.namespace, s.metadata.labels[LABEL_SERVICE_NAME] ?? '');

export interface ImportControllerOptions {
  /** Where services published under names of their own go when their namespace does not exist here (the agent's). */
  fallbackNamespace: string;
  /** This cluster's ID: its own endpoints are reachable whatever its hub tunnel does. */
  clusterID: string;
  /** Where this cluster's ClusterSetIPs come from (clusterSetIpRange). */
  clusterSetIps: Cidr;
  /** Told every merged service and the exports it was merged from (every cluster's, as the hub holds them), e.g. for the exports' Conflict conditions. */
  onAggregated: (services: readonly AggregatedService[], exports: readonly DescribedExport[]) => void;
  /** Where an import that cannot be written is reported, on the ServiceImport. */
  events: EventRecorder;
  log: Logger;
}

/**
 * The cluster leader's imports: for every service some cluster exports (this
 * one included), one ServiceImport in the namespace of the same name, merged
 * from every export, and the exporters' EndpointSlices beside it. A namespace
 * that does not exist here imports nothing (namespace sameness). Objects the
 * hub holds are trusted only in their cluster's own namespace. Each import is
 * written on its own: one that fails gets an Event and is retried with
 * backoff, and the others are imported as usual.
 */
export class ImportController {
  private readonly api: { custom: CustomObjectsApi; core: CoreV1Api; discovery: DiscoveryV1Api };
  private readonly hubCustom: CustomObjectsApi;
  private readonly debouncer: Debouncer;
  private readonly watches: WatchSet;
  private hubPeers: ResilientWatch<Peer> | undefined;
  private namespaces: ResilientWatch<Namespace> | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly retries = new ObjectRetries();
  /** Exports in the hub that cannot be merged. */
  private readonly unusable: ProblemLog;

  constructor(
    private readonly kc: KubeConfig,
    private readonly hubKc: KubeConfig,
    /** What every cluster published in the hub, shared with the exporter. */
    private readonly hubExports: HubExports,
    /** This cluster's imports and imported slices, shared with the ClusterSetIP load balancer. */
    private readonly local: LocalImports,
    private readonly opts: ImportControllerOptions,
  ) {
    this.api = { custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
    this.hubCustom = hubKc.makeApiClient(CustomObjectsApi);
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log, 'importing services');
    this.unusable = new ProblemLog(opts.log);
    this.watches = new WatchSet(() => this.debouncer.schedule(), opts.log);
  }

  async start(): Promise<void> {
    const peerApi = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL };
    this.hubPeers = this.watches.add(this.hubKc, `/apis/${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}/${PEER_PLURAL}`, PeerKind, () => this.hubCustom.listCustomObjectForAllNamespaces(peerApi) as ReturnType<RawList>);
    this.namespaces = this.watches.add(this.kc, '/api/v1/namespaces', NamespaceKind, () => this.api.core.listNamespace());
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
    const present = new Set((this.namespaces?.cached() ?? []).filter((n) => !n.metadata.deletionTimestamp).map((n) => n.metadata.name));
    const exports = this.hubExports.services();
    this.unusable.report(exports.flatMap((e) => {
      const message = exportProblem(e);
      return message === undefined ? [] : [{ service: objectKey(e), message }];
    }));
    const aggregated = aggregateServices(exports);
    this.opts.onAggregated(aggregated, exports);
    const services = placeImports(aggregated, present, this.opts.fallbackNamespace);
    this.retries.keepOnly(new Set(services.map(atKey)));
    const failed = new Map<string, string>();
    // An import waiting for its retry is left as it is, slices and all.
    const handled = services.filter((s) => !this.retries.waiting(atKey(s)));
    for (const [key, message] of await this.importServices(handled)) failed.set(key, message);
    for (const [key, message] of await this.importSlices(handled)) failed.set(key, failed.get(key) ?? message);
    for (const s of handled) {
      const key = atKey(s);
      const message = failed.get(key);
      if (message === undefined) {
        this.retries.succeeded(key);
        continue;
      }
      const wait = this.retries.failed(key, message);
      this.opts.log.warn({ import: key, err: message, retryInMs: wait }, 'cannot import the service; retrying it');
      const ref = { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceImport', namespace: s.at.namespace, name: s.at.name };
      this.opts.events.emit(ref, 'Warning', 'ImportFailed', `${message}; retrying in ${Math.round(wait / 1000)} s`);
    }
    const next = this.retries.nextRetryIn();
    if (next !== undefined) this.debouncer.retryIn(next);
  }

  /** Writes the ServiceImports; returns the imports that failed, with why. */
  private async importServices(services: PlacedImport[]): Promise<Map<string, string>> {
    const handled = new Set(services.map(atKey));
    const all = this.local.imports();
    const ips = this.allocateClusterSetIps(services, all);
    const desired: ServiceImportBody[] = services.map((s) => {
      const ip = ips.get(atKey(s));
      return {
        apiVersion: `${MCS_GROUP}/${MCS_VERSION}`,
        kind: 'ServiceImport',
        // Exported labels and annotations never override the keys FleetBoard reads.
        metadata: { name: s.at.name, namespace: s.at.namespace, labels: { ...s.labels, [IMPORT_MANAGED_BY_LABEL]: MANAGED_BY }, annotations: { ...s.annotations, ...(s.dnsNames ? { [DNS_NAME_ANNOTATION]: s.dnsNames } : {}) } },
        spec: { ...s.spec, ...(ip ? { ips: [ip] } : {}) },
      };
    });
    // Ours, except those of imports waiting for a retry; an import no export wants any more is not waiting.
    const ours = all.filter((i) => importMadeByFleetBoard(i) && (handled.has(objectKey(i)) || !this.retries.waiting(objectKey(i))));
    // A ServiceImport made by hand for the same service is adopted: replaced with ours, keeping its resourceVersion.
    const adoptable = all.filter((i) => !importMadeByFleetBoard(i) && handled.has(objectKey(i)));
    const live = [...ours, ...adoptable];
    const plan = objectPlan(desired, live, labelsAnnotationsAndSpec);
    const failures = await applyPlan(plan, live, {
      create: (body) => this.api.custom.createNamespacedCustomObject({ ...importApi, namespace: body.metadata.namespace, body }),
      replace: (body) => this.api.custom.replaceNamespacedCustomObject({ ...importApi, namespace: body.metadata.namespace, name: body.metadata.name, body }),
      remove: (gone) => this.api.custom.deleteNamespacedCustomObject({ ...importApi, namespace: gone.metadata.namespace ?? '', name: gone.metadata.name }),
    });
    if (plan.create.length + plan.update.length + plan.remove.length > failures.length) {
      this.opts.log.info({ imported: plan.create.map((i) => objectKey(i)), updated: plan.update.length, removed: plan.remove.length, failed: failures.length }, 'service imports changed');
    }
    const failed = new Map<string, string>();
    failuresByOwner('ServiceImport', failures, objectKey, failed);
    // Which clusters export each service, as the MCS API reports it.
    const byKey = new Map(all.map((i) => [objectKey(i), i]));
    const stale = services.filter((s) => {
      const key = atKey(s);
      // A new import is written just above: its status goes with it, not a pass later.
      return !failed.has(key) && JSON.stringify(byKey.get(key)?.status.clusters ?? []) !== JSON.stringify(s.clusters.map((cluster) => ({ cluster })));
    });
    await eachLimited(stale, API_WRITE_CONCURRENCY, async (s) => {
      try {
        await this.api.custom.patchNamespacedCustomObjectStatus({ ...importApi, namespace: s.at.namespace, name: s.at.name, body: { status: { clusters: s.clusters.map((cluster) => ({ cluster })) } } }, mergePatch);
      } catch (err) {
        failed.set(atKey(s), `writing the status of ServiceImport ${s.at.namespace}/${s.at.name} failed: ${apiErrorDetail(err)}`);
      }
    });
    return failed;
  }

  /** Each ClusterSetIP import's address here: kept once recorded on the ServiceImport, which is the record. */
  private allocateClusterSetIps(services: PlacedImport[], live: readonly ServiceImport[]): Map<string, string> {
    const recorded = new Map<string, string>();
    for (const i of live) {
      const ip = i.spec.ips[0];
      if (ip) recorded.set(objectKey(i), ip);
    }
    const wanting = services.filter((s) => s.spec.type === 'ClusterSetIP').map(atKey);
    const { assignment, exhausted } = assignClusterSetIps(this.opts.clusterSetIps, wanting, recorded);
    for (const e of exhausted) this.opts.log.warn({ service: e.service }, e.message);
    return assignment;
  }

  /** Writes the imported EndpointSlices; returns the imports some of whose slices failed, with why. */
  private async importSlices(services: PlacedImport[]): Promise<Map<string, string>> {
    const placement = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s.at]));
    const handled = new Set(services.map(atKey));
    const down = disconnectedClusters(this.hubPeers?.cached() ?? [], this.opts.clusterID);
    const desired: SliceBody[] = [];
    for (const slice of this.hubExports.slices()) {
      const labels = slice.metadata.labels;
      const cluster = labels[LABEL_SOURCE_CLUSTER];
      const namespace = labels[LABEL_SERVICE_NAMESPACE] ?? '';
      const name = labels[LABEL_SERVICE_NAME] ?? '';
      const at = placement.get(`${namespace}/${name}`);
      if (!cluster || slice.metadata.namespace !== memberNamespace(cluster) || !at) continue;
      desired.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        // Not labelled kubernetes.io/service-name: no local Service may pick these up.
        metadata: { name: slice.metadata.name, namespace: at.namespace, labels: { [LABEL_SERVICE_NAME]: at.name, [LABEL_SOURCE_CLUSTER]: cluster, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SOURCE_CONNECTED]: String(!down.has(cluster)) } },
        addressType: slice.addressType,
        endpoints: slice.endpoints.map((e) => endpointBody(e, e.addresses, statedConditions(e.conditions))),
        ports: slice.ports.map(portBody),
      });
    }
    // Slices of imports waiting for a retry stay as they are; those of imports nothing wants any more go.
    const live = this.local.slices().filter((s) => handled.has(sliceImportKey(s)) || !this.retries.waiting(sliceImportKey(s)));
    const plan = objectPlan(desired, live, sliceContent);
    const failures = await applyPlan(plan, live, {
      create: (body) => this.api.discovery.createNamespacedEndpointSlice({ namespace: body.metadata.namespace, body }),
      replace: (body) => this.api.discovery.replaceNamespacedEndpointSlice({ namespace: body.metadata.namespace, name: body.metadata.name, body }),
      remove: (gone) => this.api.discovery.deleteNamespacedEndpointSlice({ namespace: gone.metadata.namespace ?? '', name: gone.metadata.name }),
    });
    const failed = new Map<string, string>();
    failuresByOwner('EndpointSlice', failures, sliceImportKey, failed);
    return failed;
  }
}
