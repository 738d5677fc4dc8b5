import type { KubernetesObject } from '@kubernetes/client-node';
import { bindingToServiceAccount, leaderTunnelService, leaseRules, podIdentityEnv, rule } from './manifestParts.js';
import { mcsCrds } from './mcsCrds.js';

/**
 * FleetBoard's member-cluster agent as Kubernetes objects: the cnf DaemonSet
 * (plugin + controller sharing the cnf netns) and least-privilege RBAC. The
 * Helm chart (charts/fleetboard-agent) will render the same objects.
 */
export interface AgentOptions {
  /** A cluster on its own; a member of a hub gets its cluster CIDR from the hub instead. */
  clusterCidr?: string;
  /** The join material: hub.hubURL, hub.bootstrapToken, the hub CA and cluster.clusterID. */
  hub?: { url: string; caPem: string; bootstrapToken: string; clusterID: string };
  /** Seconds between keepalives to the hub. */
  keepalive?: number;
  /**
   * tunnel.endpoint and tunnel.port: where other members reach this cluster's
   * gateway, which then gets direct tunnels. A NodePort of that port fronts the
   * leader cnf; whatever routes the endpoint to the nodes keeps the port.
   */
  publicEndpoint?: { host: string; port: number };
  namespace?: string;
  image?: string;
  /** Lease timings in seconds; short ones make leader changes quick in tests. */
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
  nodeCidrPrefix?: number;
  /** crossdns: its Service's fixed ClusterIP (seed: kube-dns + 1), the zones it answers, and those for names chosen per export. */
  dns?: { clusterIP?: string; zones?: string[]; customZones?: string[] };
}

export const AGENT_NAMESPACE = 'fleetboard-system';
const NAME = 'fleetboard-cnf';
const LEASE = 'fleetboard-cnf-leader';
const NODE_CIDRS = 'fleetboard-node-cidrs';
const HUB_JOIN = 'fleetboard-hub-join';
const HUB_CREDENTIALS = 'fleetboard-hub-credentials';
const CROSSDNS = 'fleetboard-crossdns';
/** kube-dns's usual ClusterIP (10.96.0.10) + 1. */
export const DEFAULT_CROSSDNS_IP = '10.96.0.11';
export const DEFAULT_DNS_ZONES = ['clusterset.local', 'hyperos.local'];
export const CROSSDNS_SELECTOR = 'app.kubernetes.io/component=crossdns';

export function agentManifests(o: AgentOptions): KubernetesObject[] {
  const namespace = o.namespace ?? AGENT_NAMESPACE;
  const image = o.image ?? 'ghcr.io/fleetboard-io/fleetboard:dev';
  const labels = { 'app.kubernetes.io/name': 'fleetboard', 'app.kubernetes.io/component': 'cnf', 'fleetboard.io/role': 'cnf' };
  const hubArgs = o.hub ? [`--hub-url=${o.hub.url}`, `--cluster-id=${o.hub.clusterID}`, '--hub-ca-file=/etc/fleetboard/hub/ca.crt'] : [`--cluster-cidr=${o.clusterCidr ?? ''}`];
  const endpointArgs = o.publicEndpoint ? [`--tunnel-endpoint=${o.publicEndpoint.host}`, `--tunnel-endpoint-port=${o.publicEndpoint.port}`] : [];
  return [
    ...mcsCrds(),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace } },
    ...(o.hub
      ? [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: HUB_JOIN, namespace }, type: 'Opaque', stringData: { 'ca.crt': o.hub.caPem, 'bootstrap-token': o.hub.bootstrapToken } } as KubernetesObject]
      : []),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: NAME },
      rules: [
        // Pod annotations record addresses; the leader labels cnf pods.
        rule([''], ['pods'], ['get', 'list', 'watch', 'patch']),
        rule([''], ['nodes'], ['get', 'list', 'watch']),
        rule([''], ['events'], ['create', 'patch']),
        // Exports: their Services and EndpointSlices, and the conditions that tell users whether they can be exported.
        rule([''], ['services'], ['get', 'list', 'watch']),
        rule(['multicluster.x-k8s.io'], ['serviceexports'], ['get', 'list', 'watch']),
        rule(['multicluster.x-k8s.io'], ['serviceexports/status'], ['patch', 'update']),
        // Imports: a ServiceImport and the exporters' EndpointSlices in each namespace that exists here.
        rule([''], ['namespaces'], ['get', 'list', 'watch']),
        rule(['multicluster.x-k8s.io'], ['serviceimports'], ['get', 'list', 'watch', 'create', 'update', 'delete']),
        rule(['multicluster.x-k8s.io'], ['serviceimports/status'], ['patch', 'update']),
        rule(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch', 'create', 'update', 'delete']),
      ],
    } as KubernetesObject,
    bindingToServiceAccount('ClusterRoleBinding', NAME, namespace),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: NAME, namespace },
      rules: [
        // create cannot be limited by name; everything else is limited to our own objects.
        ...leaseRules(LEASE),
        rule([''], ['configmaps'], ['create']),
        rule([''], ['configmaps'], ['get', 'list', 'watch', 'update'], [NODE_CIDRS]),
        // The hub credentials this cluster got when it joined.
        rule([''], ['secrets'], ['create']),
        rule([''], ['secrets'], ['get', 'update'], [HUB_CREDENTIALS]),
      ],
    } as KubernetesObject,
    bindingToServiceAccount('RoleBinding', NAME, namespace),
    ...crossdns(namespace, image, o.dns),
    ...(o.publicEndpoint ? [leaderTunnelService('fleetboard-tunnel', namespace, 'cnf', o.publicEndpoint.port)] : []),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: NAME, namespace, labels },
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
                name: 'plugin',
                image,
                command: ['fleetboard-plugin', '--nri-socket=/var/run/nri/nri.sock', '--controller-socket=/var/run/fleetboard/node.sock', '--interface=eth-fleet'],
                // Entering pods' network namespaces needs SYS_ADMIN; creating links NET_ADMIN.
                securityContext: { privileged: true },
                volumeMounts: [
                  { name: 'nri', mountPath: '/var/run/nri' },
                  { name: 'netns', mountPath: '/var/run/netns', mountPropagation: 'HostToContainer' },
                  { name: 'sockets', mountPath: '/var/run/fleetboard' },
                ],
              },
              {
                name: 'controller',
                image,
                command: [
                  'fleetboard-controller',
                  ...hubArgs,
                  ...endpointArgs,
                  '--socket=/var/run/fleetboard/node.sock',
                  `--lease-duration=${o.leaseDuration ?? 15}s`,
                  `--renew-deadline=${o.renewDeadline ?? 10}s`,
                  `--retry-period=${o.retryPeriod ?? 2}s`,
                  `--node-cidr-prefix=${o.nodeCidrPrefix ?? 24}`,
                  `--keepalive=${o.keepalive ?? 25}s`,
                ],
                env: [
                  ...podIdentityEnv(),
                  // V8's default young generation (16 MB semi-spaces) is sized for throughput; a controller's
                  // live set is small, and the smaller one took ~20 MB off the leader's peak RSS in bench:sync.
                  { name: 'NODE_OPTIONS', value: '--max-semi-space-size=8' },
                  ...(o.hub ? [{ name: 'FLEETBOARD_BOOTSTRAP_TOKEN', valueFrom: { secretKeyRef: { name: HUB_JOIN, key: 'bootstrap-token' } } }] : []),
                ],
                // Routes, forwarding and the WireGuard device (/dev/net/tun) in the cnf netns.
                securityContext: { privileged: true },
                volumeMounts: [
                  { name: 'sockets', mountPath: '/var/run/fleetboard' },
                  // The node's WireGuard private key stays on the node across restarts.
                  { name: 'state', mountPath: '/var/lib/fleetboard' },
                  { name: 'wireguard', mountPath: '/var/run/wireguard' },
                  ...(o.hub ? [{ name: 'hub', mountPath: '/etc/fleetboard/hub', readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              { name: 'nri', hostPath: { path: '/var/run/nri' } },
              { name: 'netns', hostPath: { path: '/var/run/netns' } },
              { name: 'sockets', emptyDir: {} },
              { name: 'state', hostPath: { path: '/var/lib/fleetboard', type: 'DirectoryOrCreate' } },
              { name: 'wireguard', emptyDir: {} },
              ...(o.hub ? [{ name: 'hub', secret: { secretName: HUB_JOIN, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] : []),
            ],
          },
        },
      },
    } as KubernetesObject,
  ];
}

/**
 * crossdns: answers the clusterset zones from the imports (it only reads
 * ServiceImports and EndpointSlices), behind a Service with a fixed ClusterIP
 * that cluster DNS forwards the zones to.
 */
function crossdns(namespace: string, image: string, dns: AgentOptions['dns']): KubernetesObject[] {
  const labels = { 'app.kubernetes.io/name': 'fleetboard', 'app.kubernetes.io/component': 'crossdns' };
  const zones = dns?.zones ?? DEFAULT_DNS_ZONES;
  const crossdnsIp = dns?.clusterIP ?? DEFAULT_CROSSDNS_IP;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: CROSSDNS, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: CROSSDNS },
      rules: [rule(['multicluster.x-k8s.io'], ['serviceimports'], ['get', 'list', 'watch']), rule(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch'])],
    } as KubernetesObject,
    bindingToServiceAccount('ClusterRoleBinding', CROSSDNS, namespace),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: CROSSDNS, namespace, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: CROSSDNS,
            priorityClassName: 'system-cluster-critical',
            containers: [
              {
                name: 'crossdns',
                image,
                command: [
                  'fleetboard-crossdns',
                  `--zones=${zones.join(',')}`,
                  ...(dns?.customZones?.length ? [`--custom-zones=${dns.customZones.join(',')}`] : []),
                  '--listen=0.0.0.0:53',
                  // The Service's address: what the zones' NS name resolves to.
                  `--nameserver-addresses=${crossdnsIp}`,
                ],
                env: podIdentityEnv(),
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                // Port 53 only; nothing else.
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
              },
            ],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: CROSSDNS, namespace, labels },
      spec: {
        clusterIP: crossdnsIp,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
        ],
      },
    } as KubernetesObject,
  ];
}
