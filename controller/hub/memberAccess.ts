import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * What the hub gives each member in its own namespace: a ServiceAccount bound
 * to two ClusterRoles the hub chart installs. `fleetboard-member` is bound by a
 * RoleBinding, so its write rights hold only in the member's namespace;
 * `fleetboard-member-reader` cluster-wide, for reading other clusters' Peers.
 * The hub controller needs only `bind` on these two roles, not the rights themselves.
 * The ClusterRoleBinding is owned by the namespace, so removing the member
 * (deleting its namespace) leaves nothing of it behind.
 */
export const MEMBER_SERVICE_ACCOUNT = 'fleetboard-member';
export const MEMBER_ROLE = 'fleetboard-member';
export const MEMBER_READER_ROLE = 'fleetboard-member-reader';
export const MEMBER_LABEL = 'fleetboard.io/member-cluster';
/** On the member's namespace: the JoinRequest it was made for, so a second request for the ID cannot claim it. */
export const JOIN_UID_ANNOTATION = 'fleetboard.io/join-request-uid';

/** The member's cluster-wide binding to the reader role. */
export const readerBindingName = (namespace: string): string => `${namespace}-reader`;

export function memberAccessObjects(clusterID: string, namespace: string, namespaceUid: string): KubernetesObject[] {
  const subjects = [{ kind: 'ServiceAccount', name: MEMBER_SERVICE_ACCOUNT, namespace }];
  const labels = { [MEMBER_LABEL]: clusterID };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: MEMBER_SERVICE_ACCOUNT, namespace, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: MEMBER_ROLE, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: MEMBER_ROLE },
      subjects,
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: readerBindingName(namespace), labels, ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: namespace, uid: namespaceUid }] },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: MEMBER_READER_ROLE },
      subjects,
    } as KubernetesObject,
  ];
}
