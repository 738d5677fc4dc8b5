import { DNS_NAME_ANNOTATION, EXPORTED_ANNOTATIONS_ANNOTATION, EXPORTED_AT_ANNOTATION, EXPORTED_LABELS_ANNOTATION, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER, type ServiceImportPort, type ServiceImportSpec, type ServiceImportType } from './api.js';
import { memberNamespace } from '../clusterset/peer.js';

/**
 * A cluster's view of a service it exports, as the hub holds it: what this
 * cluster publishes (ServiceImportBody) or what is read back from the hub
 * (objects/mcs.ts), where a member gone wrong may have left anything out.
 */
export interface DescribedExport {
  metadata: { name: string; namespace?: string | undefined; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    type?: string | undefined;
    ports: readonly { name?: string | undefined; protocol?: string | undefined; appProtocol?: string | undefined; port: number }[];
    sessionAffinity?: string | undefined;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number | undefined } | undefined } | undefined;
  };
}

const SERVICE_IMPORT_TYPES: readonly string[] = ['ClusterSetIP', 'Headless'] satisfies ServiceImportType[];

/** Why an export published in the hub cannot be merged (it is left out); undefined when it can. Pure. */
export function exportProblem(d: DescribedExport): string | undefined {
  if (!SERVICE_IMPORT_TYPES.includes(d.spec.type ?? '')) {
    return `ServiceImport ${d.metadata.namespace ?? ''}/${d.metadata.name} in the hub has spec.type ${JSON.stringify(d.spec.type ?? null)}, not ClusterSetIP or Headless; its cluster's export of it is left out`;
  }
  return undefined;
}

/** A port as published, with the protocol the CRD defaults. */
function importPort(p: DescribedExport['spec']['ports'][number]): ServiceImportPort {
  return { ...(p.name !== undefined ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}), port: p.port };
}

/** One multi-cluster service as every member imports it, merged from the clusters that export it. */
export interface AggregatedService {
  namespace: string;
  name: string;
  spec: ServiceImportSpec;
  /** Extra DNS names the oldest export asks for (DNS_NAME_ANNOTATION), if any. */
  dnsNames?: string;
  /** The oldest export's `exportedLabels` / `exportedAnnotations`. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Exporting clusters, oldest export first. */
  clusters: string[];
  /** Clusters whose export disagrees with the oldest one, and on what. */
  conflicts: { cluster: string; reason: ConflictReason; message: string }[];
}

type ConflictReason = 'TypeConflict' | 'PortConflict' | 'SessionAffinityConflict' | 'SessionAffinityConfigConflict' | 'LabelsConflict' | 'AnnotationsConflict';

interface Export {
  cluster: string;
  exportedAt: string;
  described: DescribedExport;
  type: ServiceImportType;
}

const portKey = (p: ServiceImportPort) => `${p.port}/${p.protocol}`;

/**
 * The exports the hub holds, trusted only where a cluster may write them (its
 * own namespace, labelled with its own ID), merged per service: the oldest
 * export decides the type, session affinity, exported labels and annotations;
 * ports are the union, and a port whose name or appProtocol differs from an
 * older export's is left out with a PortConflict. Pure.
 */
export function aggregateServices(described: readonly DescribedExport[]): AggregatedService[] {
  const byService = new Map<string, Export[]>();
  for (const d of described) {
    const labels = d.metadata.labels;
    const cluster = labels[LABEL_SOURCE_CLUSTER];
    const namespace = labels[LABEL_SERVICE_NAMESPACE];
    const name = labels[LABEL_SERVICE_NAME];
    if (!cluster || !namespace || !name || d.metadata.namespace !== memberNamespace(cluster) || exportProblem(d)) continue;
    const key = `${namespace}/${name}`;
    const type = d.spec.type as ServiceImportType;
    byService.set(key, [...(byService.get(key) ?? []), { cluster, exportedAt: d.metadata.annotations[EXPORTED_AT_ANNOTATION] ?? '', described: d, type }]);
  }
  const services: AggregatedService[] = [];
  for (const [key, exports] of byService) {
    exports.sort((a, b) => a.exportedAt.localeCompare(b.exportedAt) || a.cluster.localeCompare(b.cluster));
    const [oldest] = exports;
    if (!oldest) continue;
    const [namespace = '', name = ''] = key.split('/');
    const ports = new Map<string, ServiceImportPort>();
    const conflicts: AggregatedService['conflicts'] = [];
    for (const e of exports) {
      const spec = e.described.spec;
      if (e.type !== oldest.type) {
        conflicts.push({ cluster: e.cluster, reason: 'TypeConflict', message: `${e.cluster} exports ${e.type}, the oldest export (${oldest.cluster}) ${oldest.type}` });
      }
      if ((spec.sessionAffinity ?? 'None') !== (oldest.described.spec.sessionAffinity ?? 'None')) {
        conflicts.push({ cluster: e.cluster, reason: 'SessionAffinityConflict', message: `${e.cluster} sets session affinity ${spec.sessionAffinity ?? 'None'}, the oldest export (${oldest.cluster}) ${oldest.described.spec.sessionAffinity ?? 'None'}` });
      }
      const timeout = (i: DescribedExport) => i.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
      if (spec.sessionAffinity === oldest.described.spec.sessionAffinity && timeout(e.described) !== timeout(oldest.described)) {
        conflicts.push({ cluster: e.cluster, reason: 'SessionAffinityConfigConflict', message: `${e.cluster} keeps client affinity for ${timeout(e.described) ?? 'the default'} s, the oldest export (${oldest.cluster}) ${timeout(oldest.described) ?? 'the default'} s` });
      }
      for (const [reason, annotation, what] of [['LabelsConflict', EXPORTED_LABELS_ANNOTATION, 'labels'], ['AnnotationsConflict', EXPORTED_ANNOTATIONS_ANNOTATION, 'annotations']] as const) {
        const mine = exportedMap(e.described, annotation);
        const theirs = exportedMap(oldest.described, annotation);
        if (JSON.stringify(mine) !== JSON.stringify(theirs)) conflicts.push({ cluster: e.cluster, reason, message: `${e.cluster} exports ${what} ${JSON.stringify(mine)}, the oldest export (${oldest.cluster}) ${JSON.stringify(theirs)}` });
      }
      for (const p of spec.ports.map(importPort)) {
        const taken = ports.get(portKey(p));
        if (!taken) ports.set(portKey(p), p);
        else if (taken.name !== p.name || taken.appProtocol !== p.appProtocol) {
          conflicts.push({ cluster: e.cluster, reason: 'PortConflict', message: `port ${portKey(p)} is named ${JSON.stringify(p.name ?? '')} in ${e.cluster} but ${JSON.stringify(taken.name ?? '')} in an older export` });
        }
      }
    }
    const { sessionAffinity } = oldest.described.spec;
    const timeoutSeconds = oldest.described.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    const dnsNames = oldest.described.metadata.annotations[DNS_NAME_ANNOTATION];
    services.push({
      namespace,
      name,
      ...(dnsNames ? { dnsNames } : {}),
      labels: exportedMap(oldest.described, EXPORTED_LABELS_ANNOTATION),
      annotations: exportedMap(oldest.described, EXPORTED_ANNOTATIONS_ANNOTATION),
      spec: {
        type: oldest.type,
        ports: [...ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)),
        ...(sessionAffinity ? { sessionAffinity } : {}),
        ...(timeoutSeconds !== undefined ? { sessionAffinityConfig: { clientIP: { timeoutSeconds } } } : {}),
      },
      clusters: exports.map((e) => e.cluster),
      conflicts,
    });
  }
  return services.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/**
 * A map a cluster exported (JSON in `annotation`), keys sorted; only string
 * values are kept, and text that is not a JSON object counts as empty, since
 * a member must not fail on what another cluster wrote.
 */
function exportedMap(described: DescribedExport, annotation: string): Record<string, string> {
  const text = described.metadata.annotations[annotation];
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter((kv): kv is [string, string] => typeof kv[1] === 'string').sort(([a], [b]) => a.localeCompare(b)));
}
