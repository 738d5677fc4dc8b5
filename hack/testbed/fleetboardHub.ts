import type { KubernetesObject } from '@kubernetes/client-node';
import { bindingToServiceAccount, customResourceDefinition, leaderTunnelService, leaseRules, podIdentityEnv, rule } from './manifestParts.js';
import { mcsCrds } from './mcsCrds.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, MEMBER_NAMESPACE_PREFIX } from '../../controller/clusterset/peer.js';
import { MEMBER_READER_ROLE, MEMBER_ROLE, MEMBER_SERVICE_ACCOUNT } from '../../controller/hub/memberAccess.js';

/**
 * FleetBoard's hub as Kubernetes objects: the Peer and JoinRequest CRDs, the
 * roles members get, the bootstrap token members join with, and the hub cnf
 * (join approval and the WireGuard router behind a NodePort). The hub chart
 * (charts/fleetboard) will render the same objects.
 */
export interface HubInstallOptions {
  /** tunnel.endpoint: the address members dial. */
  endpoint: string;
  globalCidr?: string;
  /** tunnel.port: the NodePort in front of the leader cnf. */
  nodePort?: number;
  bootstrapToken: { id: string; secret: string; expiration: Date };
  namespace?: string;
  image?: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
}

export const HUB_NAMESPACE = 'fleetboard-system';
export const HUB_CNF_SELECTOR = 'fleetboard.io/role=hub-cnf';
export const BOOTSTRAP_GROUP = 'system:bootstrappers:fleetboard';
const NAME = 'fleetboard-hub';
const LEASE = 'fleetboard-hub-leader';
const rbac = 'rbac.authorization.k8s.io/v1';

function crd(kind: string, plural: string, scope: 'Namespaced' | 'Cluster', spec: object, status: object, columns: object[]): KubernetesObject {
  return customResourceDefinition({
    group: FLEETBOARD_GROUP,
    kind,
    plural,
    scope,
    versions: [{ name: FLEETBOARD_VERSION, storage: true }],
    properties: { spec: { type: 'object', ...spec }, status: { type: 'object', ...status } },
    columns,
  });
}

const condition = {
  type: 'object',
  required: ['type', 'status'],
  properties: { type: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' }, lastTransitionTime: { type: 'string', format: 'date-time' } },
};
/** What a gateway's device reports of one tunnel. */
const tunnelHealth = { lastHandshake: { type: 'string', format: 'date-time' }, rxBytes: { type: 'integer' }, txBytes: { type: 'integer' } };
const sealedBox = { type: 'object', properties: { ciphertext: { type: 'string' }, nonce: { type: 'string' }, senderKey: { type: 'string' } } };

export function hubCrds(): KubernetesObject[] {
  return [
    crd(
      'Peer',
      'peers',
      'Namespaced',
      {
        required: ['clusterID', 'clusterCIDR'],
        properties: {
          clusterID: { type: 'string' },
          clusterCIDR: { type: 'array', items: { type: 'string' } },
          endpoint: { type: 'string' },
          port: { type: 'integer', minimum: 0, maximum: 65535 },
          publicKey: { type: 'string' },
          isHub: { type: 'boolean', default: false },
          isPublic: { type: 'boolean', default: false },
        },
      },
      {
        properties: {
          acceptedPublicKey: { type: 'string' },
          conditions: { type: 'array', items: condition },
          tunnel: {
            type: 'object',
            properties: {
              gatewayNode: { type: 'string' },
              since: { type: 'string', format: 'date-time' },
              ...tunnelHealth,
              direct: { type: 'array', items: { type: 'object', required: ['clusterID'], properties: { clusterID: { type: 'string' }, ...tunnelHealth } } },
            },
          },
        },
      },
      [
        { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterID' },
        { name: 'CIDR', type: 'string', jsonPath: '.spec.clusterCIDR[0]' },
        { name: 'Hub', type: 'boolean', jsonPath: '.spec.isHub' },
        { name: 'Public', type: 'boolean', jsonPath: '.spec.isPublic' },
        { name: 'Routed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Routed")].status' },
        { name: 'Connected', type: 'string', jsonPath: '.status.conditions[?(@.type=="Connected")].status' },
        { name: 'Handshake', type: 'date', jsonPath: '.status.tunnel.lastHandshake' },
      ],
    ),
    crd(
      'JoinRequest',
      'joinrequests',
      'Cluster',
      { required: ['clusterID', 'publicKey', 'sessionKey'], properties: { clusterID: { type: 'string' }, publicKey: { type: 'string' }, sessionKey: { type: 'string' } } },
      { properties: { phase: { type: 'string' }, message: { type: 'string' }, namespace: { type: 'string' }, clusterCIDR: { type: 'string' }, credentials: sealedBox } },
      [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'CIDR', type: 'string', jsonPath: '.status.clusterCIDR' },
        { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
      ],
    ),
  ];
}

/**
 * What members may do in the hub. RBAC limits writes to the member's own
 * namespace; an admission policy keeps a member from changing the identity or
 * the CIDR the hub gave its Peer.
 */
export function memberRoles(): KubernetesObject[] {
  return [
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: { name: MEMBER_ROLE },
      rules: [
        rule([FLEETBOARD_GROUP], ['peers'], ['get', 'list', 'watch', 'update', 'patch']),
        rule([FLEETBOARD_GROUP], ['peers/status'], ['get', 'update', 'patch']),
        // The cluster's exports: a ServiceImport describing each, and its EndpointSlices with the pods' global addresses.
        rule(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch', 'create', 'update', 'delete']),
        rule(['multicluster.x-k8s.io'], ['serviceimports'], ['get', 'list', 'watch', 'create', 'update', 'delete']),
        // Renewing its own token: only ServiceAccounts of this name, and only where the RoleBinding is.
        rule([''], ['serviceaccounts/token'], ['create'], [MEMBER_SERVICE_ACCOUNT]),
      ],
    } as KubernetesObject,
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: { name: MEMBER_READER_ROLE },
      // The other clusters: their Peers, and the services they export with their endpoints.
      rules: [rule([FLEETBOARD_GROUP], ['peers'], ['get', 'list', 'watch']), rule(['multicluster.x-k8s.io'], ['serviceimports'], ['get', 'list', 'watch']), rule(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch'])],
    } as KubernetesObject,
    { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'fleetboard-bootstrapper' }, rules: [rule([FLEETBOARD_GROUP], ['joinrequests'], ['create', 'get'])] } as KubernetesObject,
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'fleetboard-bootstrapper' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'fleetboard-bootstrapper' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: BOOTSTRAP_GROUP }],
    } as KubernetesObject,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'fleetboard-member-peer' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [FLEETBOARD_GROUP], apiVersions: ['*'], operations: ['UPDATE'], resources: ['peers'] }] },
        matchConditions: [{ name: 'member', expression: `request.userInfo.username.startsWith('system:serviceaccount:${MEMBER_NAMESPACE_PREFIX}')` }],
        validations: [
          {
            expression: 'object.spec.clusterID == oldObject.spec.clusterID && object.spec.clusterCIDR == oldObject.spec.clusterCIDR && object.spec.isHub == oldObject.spec.isHub',
            message: 'a member cluster may not change clusterID, clusterCIDR or isHub of its Peer: the hub allocated them',
            reason: 'Forbidden',
          },
        ],
      },
    } as KubernetesObject,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: 'fleetboard-member-peer' },
      spec: { policyName: 'fleetboard-member-peer', validationActions: ['Deny'] },
    } as KubernetesObject,
  ];
}

/** A bootstrap token as kubeadm makes them: only authenticates, expires, and carries FleetBoard's group. */
export function bootstrapTokenSecret(t: HubInstallOptions['bootstrapToken']): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${t.id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    stringData: {
      description: 'FleetBoard member join',
      'token-id': t.id,
      'token-secret': t.secret,
      expiration: t.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'usage-bootstrap-authentication': 'true',
      'auth-extra-groups': BOOTSTRAP_GROUP,
    },
  } as KubernetesObject;
}

export function hubManifests(o: HubInstallOptions): KubernetesObject[] {
  const namespace = o.namespace ?? HUB_NAMESPACE;
  const image = o.image ?? 'ghcr.io/fleetboard-io/fleetboard:dev';
  const labels = { 'app.kubernetes.io/name': 'fleetboard', 'app.kubernetes.io/component': 'hub-cnf', 'fleetboard.io/role': 'hub-cnf' };
  return [
    ...hubCrds(),
    ...mcsCrds(),
    ...memberRoles(),
    bootstrapTokenSecret(o.bootstrapToken),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace } },
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: { name: NAME },
      rules: [
        rule([FLEETBOARD_GROUP], ['joinrequests'], ['get', 'list', 'watch']),
        rule([FLEETBOARD_GROUP], ['joinrequests/status'], ['update', 'patch']),
        rule([FLEETBOARD_GROUP], ['peers'], ['get', 'list', 'watch', 'create', 'update', 'patch']),
        rule([FLEETBOARD_GROUP], ['peers/status'], ['update', 'patch']),
        // A member's namespace, ServiceAccount and bindings; the hub can bind the member roles without holding them.
        rule([''], ['namespaces'], ['get', 'list', 'watch', 'create']),
        rule([''], ['serviceaccounts'], ['create']),
        rule([''], ['serviceaccounts/token'], ['create'], [MEMBER_SERVICE_ACCOUNT]),
        rule(['rbac.authorization.k8s.io'], ['rolebindings', 'clusterrolebindings'], ['create']),
        rule(['rbac.authorization.k8s.io'], ['clusterroles'], ['bind'], [MEMBER_ROLE, MEMBER_READER_ROLE]),
        rule([''], ['events'], ['create', 'patch']),
      ],
    } as KubernetesObject,
    bindingToServiceAccount('ClusterRoleBinding', NAME, namespace),
    {
      apiVersion: rbac,
      kind: 'Role',
      metadata: { name: NAME, namespace },
      rules: [
        ...leaseRules(LEASE),
        rule([''], ['pods'], ['get', 'list', 'watch', 'patch']),
      ],
    } as KubernetesObject,
    bindingToServiceAccount('RoleBinding', NAME, namespace),
    leaderTunnelService('fleetboard-hub-tunnel', namespace, 'hub-cnf', o.nodePort ?? 31820),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: `${NAME}-cnf`, namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            priorityClassName: 'system-node-critical',
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'hub',
                image,
                command: [
                  'fleetboard-hub',
                  `--tunnel-endpoint=${o.endpoint}`,
                  `--tunnel-endpoint-port=${o.nodePort ?? 31820}`,
                  `--global-cidr=${o.globalCidr ?? '10.112.0.0/12'}`,
                  `--lease-duration=${o.leaseDuration ?? 15}s`,
                  `--renew-deadline=${o.renewDeadline ?? 10}s`,
                  `--retry-period=${o.retryPeriod ?? 2}s`,
                ],
                env: podIdentityEnv(),
                ports: [{ name: 'wireguard', containerPort: 51820, protocol: 'UDP' }],
                securityContext: { privileged: true },
                volumeMounts: [
                  { name: 'state', mountPath: '/var/lib/fleetboard' },
                  { name: 'wireguard', mountPath: '/var/run/wireguard' },
                ],
              },
            ],
            volumes: [
              { name: 'state', hostPath: { path: '/var/lib/fleetboard', type: 'DirectoryOrCreate' } },
              { name: 'wireguard', emptyDir: {} },
            ],
          },
        },
      },
    } as KubernetesObject,
  ];
}
