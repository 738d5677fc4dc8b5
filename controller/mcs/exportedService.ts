import type { Service } from '../objects/core.js';
import type { ServiceExport } from '../objects/mcs.js';
import { DNS_NAME_ANNOTATION, EXPORTED_ANNOTATIONS_ANNOTATION, EXPORTED_AT_ANNOTATION, EXPORTED_LABELS_ANNOTATION, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER, MCS_GROUP, MCS_VERSION, type ServiceImportBody } from './api.js';
import { canonicalJson } from './objectPlan.js';

/** `<name>.<namespace>`: both are DNS labels, so the dot keeps every pair apart. */
export const exportedServiceName = (namespace: string, name: string): string => `${name}.${namespace}`;

/**
 * What a cluster publishes in its hub namespace about one exported Service:
 * a ServiceImport with this cluster's view of it (ports, Headless or
 * ClusterSetIP, session affinity, extra DNS names, exported labels and
 * annotations), from which every member builds the aggregated import; when
 * the export was made, for conflict resolution. Pure.
 */
export function exportedService(clusterID: string, hubNamespace: string, service: Service, exp: ServiceExport): ServiceImportBody {
  const namespace = service.metadata.namespace ?? '';
  const name = service.metadata.name;
  const spec = service.spec;
  const affinity = spec.sessionAffinity === 'ClientIP';
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  const exportedAt = exp.metadata.creationTimestamp;
  const dnsNames = exp.metadata.annotations[DNS_NAME_ANNOTATION];
  const { exportedLabels, exportedAnnotations } = exp.spec;
  return {
    apiVersion: `${MCS_GROUP}/${MCS_VERSION}`,
    kind: 'ServiceImport',
    metadata: {
      name: exportedServiceName(namespace, name),
      namespace: hubNamespace,
      labels: { [LABEL_SERVICE_NAME]: name, [LABEL_SERVICE_NAMESPACE]: namespace, [LABEL_SOURCE_CLUSTER]: clusterID },
      annotations: {
        [EXPORTED_AT_ANNOTATION]: exportedAt ? new Date(exportedAt).toISOString() : '',
        ...(dnsNames ? { [DNS_NAME_ANNOTATION]: dnsNames } : {}),
        // Keys sorted, so equal maps publish equal text and unchanged exports cause no write.
        ...(Object.keys(exportedLabels).length > 0 ? { [EXPORTED_LABELS_ANNOTATION]: canonicalJson(exportedLabels) } : {}),
        ...(Object.keys(exportedAnnotations).length > 0 ? { [EXPORTED_ANNOTATIONS_ANNOTATION]: canonicalJson(exportedAnnotations) } : {}),
      },
    },
    spec: {
      type: spec.clusterIP === 'None' ? 'Headless' : 'ClusterSetIP',
      ports: spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}), port: p.port })),
      sessionAffinity: affinity ? 'ClientIP' : 'None',
      ...(affinity && timeout !== undefined ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: timeout } } } : {}),
    },
  };
}
