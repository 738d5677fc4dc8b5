import type { KubernetesObject } from '@kubernetes/client-node';

/** Pieces the FleetBoard hub and agent manifests share (the charts will render the same). */
export const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) => ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });

/** Binds the Role (or ClusterRole) named like the ServiceAccount to that ServiceAccount. */
export function bindingToServiceAccount(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, namespace: string): KubernetesObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: kind === 'RoleBinding' ? { name, namespace } : { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  } as KubernetesObject;
}

export interface CrdDefinition {
  group: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  shortNames?: string[];
  /** Each served version; exactly one is stored. All share the schema (`spec` and `status` properties) and columns. */
  versions: { name: string; storage: boolean }[];
  properties: object;
  columns: object[];
}

/** A CustomResourceDefinition with a status subresource. */
export function customResourceDefinition(d: CrdDefinition): KubernetesObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${d.group}` },
    spec: {
      group: d.group,
      scope: d.scope,
      names: { kind: d.kind, plural: d.plural, singular: d.kind.toLowerCase(), listKind: `${d.kind}List`, ...(d.shortNames ? { shortNames: d.shortNames } : {}) },
      versions: d.versions.map(({ name, storage }) => ({
        name,
        served: true,
        storage,
        subresources: { status: {} },
        additionalPrinterColumns: d.columns,
        schema: { openAPIV3Schema: { type: 'object', properties: d.properties } },
      })),
    },
  } as KubernetesObject;
}

/** Create the leader Lease, then read and renew only that one. */
export const leaseRules = (lease: string) => [rule(['coordination.k8s.io'], ['leases'], ['create']), rule(['coordination.k8s.io'], ['leases'], ['get', 'update', 'list', 'watch'], [lease])];

/** NODE_NAME, POD_NAME and POD_NAMESPACE from the downward API, which every cnf container reads. */
export const podIdentityEnv = () =>
  [
    ['NODE_NAME', 'spec.nodeName'],
    ['POD_NAME', 'metadata.name'],
    ['POD_NAMESPACE', 'metadata.namespace'],
  ].map(([name, fieldPath]) => ({ name: name ?? '', valueFrom: { fieldRef: { fieldPath: fieldPath ?? '' } } }));

/**
 * The NodePort in front of the leader cnf of the pods with `role`: only the
 * leader routes between clusters, and other clusters reach it through any node.
 */
export function leaderTunnelService(name: string, namespace: string, role: string, nodePort: number): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      type: 'NodePort',
      selector: { 'fleetboard.io/role': role, 'fleetboard.io/leader': 'true' },
      ports: [{ name: 'wireguard', protocol: 'UDP', port: 51820, targetPort: 51820, nodePort }],
    },
  } as KubernetesObject;
}
