import type { Service } from '../objects/core.js';
import type { EndpointSlice } from '../objects/discovery.js';
import type { ServiceExport } from '../objects/mcs.js';
import { EXPORT_READY, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER, type ServiceImportBody } from './api.js';
import { aggregateServices, type DescribedExport } from './aggregate.js';
import { conflictVerdict } from './exportConflict.js';
import { exportedService } from './exportedService.js';
import { exportedSlices, type GlobalAddressOf, type SliceBody } from './exportedSlices.js';
import { exportValidity, type ConditionVerdict } from './exportValidity.js';
import { namespacedName, objectKey } from './objectPlan.js';

/** Selects the EndpointSlices Kubernetes keeps for a Service. */
export const SERVICE_SLICES = 'kubernetes.io/service-name';

/** The export an object published in the hub belongs to, by the labels the exporter puts on it. */
export const publishedExportKey = (o: { metadata: { labels: Record<string, string> } }): string =>
  namespacedName(o.metadata.labels[LABEL_SERVICE_NAMESPACE], o.metadata.labels[LABEL_SERVICE_NAME] ?? '');

export interface ExportInputs {
  exports: readonly ServiceExport[];
  services: readonly Service[];
  /** The cluster's own EndpointSlices of Services (labelled kubernetes.io/service-name). */
  slices: readonly EndpointSlice[];
  globalAddressOf: GlobalAddressOf;
  /** Where the cluster publishes; none before it joined a hub (then only Valid is judged). */
  hub: { clusterID: string; namespace: string } | undefined;
  /** Every cluster's exports as the importer last saw them in the hub, for Conflict; none yet. */
  clusterSetExports: readonly DescribedExport[] | undefined;
  /** Exports that failed earlier and wait for their retry: left out of this plan, and left as they are. */
  waiting: (key: string) => boolean;
}

export interface ExportsPlan {
  /** Each planned export's conditions, by `namespace/name`. */
  verdicts: Map<string, ConditionVerdict[]>;
  /** What the hub should hold of the planned exports. */
  services: ServiceImportBody[];
  slices: SliceBody[];
  /** Exports that could not be planned (left as they are, like waiting ones), with why. */
  failed: { key: string; message: string }[];
}

/**
 * What the cluster's ServiceExports amount to: each export's Valid (and,
 * once joined, Ready and Conflict) condition, and the ServiceImport and
 * EndpointSlices to publish in the hub for each valid one. Each export is
 * planned on its own: one that cannot be is returned in `failed` and the
 * others are planned as usual. Pure.
 */
export function planExports(inputs: ExportInputs): ExportsPlan {
  const { hub } = inputs;
  const services = new Map(inputs.services.map((s) => [objectKey(s), s]));
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const s of inputs.slices) {
    const service = namespacedName(s.metadata.namespace, s.metadata.labels[SERVICE_SLICES] ?? '');
    slicesByService.set(service, [...(slicesByService.get(service) ?? []), s]);
  }
  const plan: ExportsPlan = { verdicts: new Map(), services: [], slices: [], failed: [] };
  for (const exp of inputs.exports) {
    const namespace = exp.metadata.namespace ?? '';
    const name = exp.metadata.name;
    const key = namespacedName(namespace, name);
    if (inputs.waiting(key)) continue;
    try {
      const service = services.get(key);
      const valid = exportValidity(namespace, name, service);
      const found: ConditionVerdict[] = [valid];
      if (hub && service && valid.status === 'True') {
        const described = exportedService(hub.clusterID, hub.namespace, service, exp);
        const exported = exportedSlices(hub.clusterID, hub.namespace, { namespace, name }, slicesByService.get(key) ?? [], inputs.globalAddressOf);
        const endpoints = exported.slices.reduce((n, s) => n + s.endpoints.length, 0);
        found.push(
          exported.withoutGlobalAddress === 0
            ? { type: EXPORT_READY, status: 'True', reason: 'Exported', message: `${endpoints} endpoint(s) published to the clusterset` }
            : { type: EXPORT_READY, status: 'False', reason: 'Pending', message: `${exported.withoutGlobalAddress} endpoint(s) have no global address yet; ${endpoints} published` },
        );
        plan.services.push(described);
        plan.slices.push(...exported.slices);
      }
      plan.verdicts.set(key, found);
    } catch (err) {
      plan.failed.push({ key, message: `cannot be exported: ${(err as Error).message}` });
    }
  }
  // Judged against what we publish now, not what the hub last echoed, so an
  // export's first status already says whether it conflicts: one write, not two.
  if (hub && inputs.clusterSetExports) {
    const others = inputs.clusterSetExports.filter((d) => d.metadata.labels[LABEL_SOURCE_CLUSTER] !== hub.clusterID);
    for (const s of aggregateServices([...others, ...plan.services])) {
      if (s.clusters.includes(hub.clusterID)) plan.verdicts.get(namespacedName(s.namespace, s.name))?.push(conflictVerdict(s));
    }
  }
  return plan;
}
