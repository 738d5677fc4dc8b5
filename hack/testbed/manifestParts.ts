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
