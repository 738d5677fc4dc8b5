
/**
 * The Multi-Cluster Services API (KEP-1645), group `multicluster.x-k8s.io`.
 * v1beta1 is stored; v1alpha1 is served too, with the same fields.
 */
export const MCS_GROUP = 'multicluster.x-k8s.io';
export const MCS_VERSION = 'v1beta1';
export const MCS_VERSIONS = ['v1beta1', 'v1alpha1'] as const;
export const SERVICE_EXPORT_PLURAL = 'serviceexports';
export const SERVICE_IMPORT_PLURAL = 'serviceimports';

/** metav1.Condition, as the MCS API uses it. */
export interface McsCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Condition types and reasons of a ServiceExport, as the API names them. */
export const EXPORT_VALID = 'Valid';
export const EXPORT_READY = 'Ready';
export const REASON_VALID = 'Valid';
export const REASON_NO_SERVICE = 'NoService';
export const REASON_INVALID_SERVICE_TYPE = 'InvalidServiceType';
export const EXPORT_CONFLICT = 'Conflict';
export const REASON_NO_CONFLICTS = 'NoConflicts';

/** Labels of EndpointSlices that belong to a multi-cluster service. */
export const LABEL_SERVICE_NAME = 'multicluster.kubernetes.io/service-name';
export const LABEL_SOURCE_CLUSTER = 'multicluster.kubernetes.io/source-cluster';
/** The namespace of the exported Service (the hub namespace is the cluster's, not the service's). */
export const LABEL_SERVICE_NAMESPACE = 'fleetboard.io/service-namespace';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'fleetboard.io';

/** Marks the ServiceImports a member keeps (one made by hand is adopted: it gets the label). */
export const IMPORT_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export type ServiceImportType = 'ClusterSetIP' | 'Headless';

export interface ServiceImportPort {
  name?: string;
  protocol: string;
  appProtocol?: string;
  port: number;
}

export interface ServiceImportSpec {
  ports: ServiceImportPort[];
  ips?: string[];
  type: ServiceImportType;
  sessionAffinity?: string;
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
}

/**
 * A ServiceImport as FleetBoard writes it: each member's merged import, and
 * each cluster's view of a service it exports in the hub. What is read back
 * is objects/mcs.ts's ServiceImport, which may lack any of it.
 */
export interface ServiceImportBody {
  apiVersion: string;
  kind: 'ServiceImport';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: ServiceImportSpec;
}

/** On a cluster's ServiceImport in the hub: when the ServiceExport was created, for oldest-export-wins. */
export const EXPORTED_AT_ANNOTATION = 'fleetboard.io/exported-at';

/**
 * On an imported EndpointSlice: "false" while the source cluster's tunnel is
 * down, so DNS and the ClusterSetIP load balancer leave its endpoints out.
 */
export const LABEL_SOURCE_CONNECTED = 'fleetboard.io/source-connected';

/**
 * On a ServiceExport (copied to the hub's and every member's ServiceImport):
 * extra DNS names for the service, comma-separated fully qualified names in a
 * zone crossdns is configured to answer (for clusters without namespace sameness).
 */
export const DNS_NAME_ANNOTATION = 'fleetboard.io/dns-name';

/**
 * On a cluster's ServiceImport in the hub: the ServiceExport's
 * `spec.exportedLabels` / `spec.exportedAnnotations` as JSON objects, which
 * every member puts on its aggregated ServiceImport (the oldest export's).
 */
export const EXPORTED_LABELS_ANNOTATION = 'fleetboard.io/exported-labels';
export const EXPORTED_ANNOTATIONS_ANNOTATION = 'fleetboard.io/exported-annotations';

/** A ServiceImport FleetBoard made (or adopted), as opposed to one written by hand. */
export const importMadeByFleetBoard = (i: { metadata: { labels: Record<string, string> } }): boolean => i.metadata.labels[IMPORT_MANAGED_BY_LABEL] === MANAGED_BY;
