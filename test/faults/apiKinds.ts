import fc from 'fast-check';
import { encodePodNetwork, podNetworkFor } from '../../controller/ipam/annotations.js';
import { CLUSTER_CIDR_ANNOTATION } from '../../controller/clusterset/peer.js';
import { tunnelAnnotations } from '../../controller/tunnel/meshPeers.js';
import { LEADER_LABEL } from '../../controller/leader/leaderLabel.js';
import { generatePrivateKey, publicKeyOf } from '../../controller/wireguard/keys.js';
import {
  DNS_NAME_ANNOTATION,
  EXPORTED_ANNOTATIONS_ANNOTATION,
  EXPORTED_AT_ANNOTATION,
  EXPORTED_LABELS_ANNOTATION,
  IMPORT_MANAGED_BY_LABEL,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SERVICE_NAMESPACE,
  LABEL_SOURCE_CLUSTER,
  LABEL_SOURCE_CONNECTED,
  MANAGED_BY,
} from '../../controller/mcs/api.js';
import { list, required, stringMap, struct, value, type Field } from './apiObjects.js';

/**
 * Every kind FleetBoard reads, as the API may send it: what its Go types or
 * CRD schema let the API omit or send as null is optional here. Values come
 * from small pools, so objects of different kinds meet (a slice of an import,
 * a pod on a node), plus text as a member gone wrong may write into a custom
 * resource whose schema only says "string".
 */

export const GLOBAL_CIDR = '10.112.0.0/12';

const oneOf = <T>(...values: T[]) => fc.constantFrom(...values);
const anyText = fc.string({ maxLength: 12 });
const namespaces = oneOf('default', 'db', 'fleetboard-system', 'fleetboard-cluster-cluster1', 'fleetboard-cluster-cluster2');
const names = oneOf('web', 'db', 'nginx-svc', 'web.default', 'cnf-a', 'cnf-b', 'node1', 'cluster1', 'cluster2', 'hub');
const clusters = fc.oneof(oneOf('cluster1', 'cluster2', 'hub'), anyText);
const ipv4 = fc.oneof(oneOf('10.112.1.5', '10.113.1.7', '10.112.240.1', '10.127.0.5'), fc.ipV4());
const ip = fc.oneof(ipv4, fc.ipV6());
const port = fc.integer({ min: 1, max: 65535 });
const protocol = oneOf('TCP', 'UDP', 'SCTP');
const time = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const cidr = fc.oneof(oneOf('10.112.0.0/16', '10.113.0.0/16', '10.112.1.0/24', '10.112.2.0/24'), anyText);
const key = publicKeyOf(generatePrivateKey());
const publicKey = fc.oneof(fc.constant(key), fc.constant(publicKeyOf(generatePrivateKey())), anyText);

const labelKeys = oneOf(LABEL_SERVICE_NAME, LABEL_SOURCE_CLUSTER, LABEL_SERVICE_NAMESPACE, LABEL_MANAGED_BY, LABEL_SOURCE_CONNECTED, IMPORT_MANAGED_BY_LABEL, 'kubernetes.io/service-name', LEADER_LABEL, 'app');
const labelValues = fc.oneof(oneOf('web', 'db', 'nginx-svc', 'default', 'cluster1', 'cluster2', MANAGED_BY, 'true', 'false'), anyText);
const podNetwork = encodePodNetwork(podNetworkFor('10.112.1.0/24', '10.112.1.5', GLOBAL_CIDR));
const annotationKeys = oneOf(...Object.keys(podNetwork), tunnelAnnotations.publicKey, tunnelAnnotations.port, DNS_NAME_ANNOTATION, EXPORTED_AT_ANNOTATION, EXPORTED_LABELS_ANNOTATION, EXPORTED_ANNOTATIONS_ANNOTATION, CLUSTER_CIDR_ANNOTATION);
const annotationValues = fc.oneof(oneOf(...Object.values(podNetwork), key, '51820', 'web.shared.example', '2026-01-01T00:00:00.000Z', '{"team":"a"}', '10.112.0.0/16', 'not json'), anyText);

function meta(sample: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }): Field {
  return struct(
    {
      name: required(names, sample.name),
      namespace: value(namespaces, sample.namespace ?? 'default'),
      uid: value(fc.uuid(), '5f0e2c1a-1111-4c1a-9c1a-000000000001'),
      resourceVersion: value(fc.nat().map(String), '7'),
      generation: value(fc.nat(), 1),
      creationTimestamp: value(time, '2026-01-01T00:00:00.000Z'),
      deletionTimestamp: value(time, '2026-02-01T00:00:00.000Z'),
      labels: stringMap(labelKeys, labelValues, sample.labels ?? {}),
      annotations: stringMap(annotationKeys, annotationValues, sample.annotations ?? {}),
    },
    false,
  );
}

const condition = struct(
  {
    type: required(oneOf('Valid', 'Ready', 'Conflict', 'Connected', 'Routed', 'PodScheduled'), 'Connected'),
    status: required(oneOf('True', 'False', 'Unknown'), 'False'),
    reason: value(anyText, 'NoHandshake', { empty: '' }),
    message: value(anyText, 'no recent handshake', { empty: '' }),
    lastTransitionTime: value(time, '2026-01-01T00:00:00.000Z'),
    observedGeneration: value(fc.nat(), 1),
  },
  false,
);

const slice = struct(
  {
    metadata: meta({ name: 'web-abcde', labels: { [LABEL_SERVICE_NAME]: 'web', [LABEL_SOURCE_CLUSTER]: 'cluster2', [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SERVICE_NAMESPACE]: 'default', 'kubernetes.io/service-name': 'web' } }),
    addressType: required(oneOf('IPv4', 'IPv6', 'FQDN'), 'IPv4'),
    endpoints: list(
      struct(
        {
          addresses: list(required(ip, '10.113.1.7'), { optional: false }),
          conditions: struct({ ready: value(fc.boolean(), true), serving: value(fc.boolean(), true), terminating: value(fc.boolean(), false) }),
          hostname: value(fc.oneof(names, anyText), 'web-0', { empty: '' }),
          nodeName: value(names, 'node1'),
          zone: value(anyText, 'z1'),
          targetRef: struct({ kind: value(oneOf('Pod', 'Node'), 'Pod'), namespace: value(namespaces, 'default'), name: value(names, 'web'), uid: value(fc.uuid(), '5f0e2c1a-1111-4c1a-9c1a-000000000002') }),
        },
        false,
      ),
      { max: 4 },
    ),
    ports: list(struct({ name: value(fc.oneof(oneOf('http', 'grpc'), anyText), 'http', { empty: '' }), protocol: value(protocol, 'TCP'), port: value(fc.integer({ min: 0, max: 70000 }), 8080), appProtocol: value(anyText, 'http') }, false)),
  },
  false,
);

const service = struct(
  {
    metadata: meta({ name: 'web' }),
    spec: struct({
      type: value(oneOf('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'), 'ClusterIP'),
      clusterIP: value(fc.oneof(ip, fc.constant('None')), '10.96.0.20', { empty: '' }),
      clusterIPs: list(required(ip, '10.96.0.20')),
      ports: list(struct({ name: value(oneOf('http', 'grpc'), 'http', { empty: '' }), protocol: value(protocol, 'TCP'), appProtocol: value(anyText, 'http'), port: required(port, 80) }, false)),
      sessionAffinity: value(oneOf('None', 'ClientIP'), 'ClientIP'),
      sessionAffinityConfig: struct({ clientIP: struct({ timeoutSeconds: value(fc.integer({ min: 1, max: 86_400 }), 60) }) }),
    }),
  },
  false,
);

const serviceExport = struct(
  {
    metadata: meta({ name: 'web', annotations: { [DNS_NAME_ANNOTATION]: 'web.shared.example' } }),
    spec: struct({ exportedLabels: stringMap(labelKeys, labelValues, { team: 'a' }), exportedAnnotations: stringMap(annotationKeys, annotationValues, { note: 'b' }) }),
    status: struct({ conditions: list(condition) }),
  },
  false,
);

/** A ServiceImport's CRD allows any string in most fields, and the hub holds what members wrote. */
const serviceImport = (sample: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> }): Field =>
  struct(
    {
      metadata: meta(sample),
      spec: struct({
        type: value(fc.oneof(oneOf('ClusterSetIP', 'Headless'), anyText), 'ClusterSetIP'),
        ports: list(struct({ name: value(fc.oneof(oneOf('http', 'grpc'), anyText), 'http', { empty: '' }), protocol: value(fc.oneof(protocol, anyText), 'TCP'), appProtocol: value(anyText, 'http'), port: required(port, 80) }, false)),
        ips: list(required(fc.oneof(ip, anyText), '10.112.240.1'), { max: 2 }),
        sessionAffinity: value(oneOf('None', 'ClientIP'), 'ClientIP'),
        sessionAffinityConfig: struct({ clientIP: struct({ timeoutSeconds: value(fc.integer({ min: 1, max: 86_400 }), 60) }) }),
      }),
      status: struct({ clusters: list(struct({ cluster: required(clusters, 'cluster2') }, false)), conditions: list(condition) }),
    },
    false,
  );

const localImport = serviceImport({ name: 'web', namespace: 'default', labels: { [IMPORT_MANAGED_BY_LABEL]: MANAGED_BY } });
const hubImport = serviceImport({
  name: 'web.default',
  namespace: 'fleetboard-cluster-cluster2',
  labels: { [LABEL_SERVICE_NAME]: 'web', [LABEL_SERVICE_NAMESPACE]: 'default', [LABEL_SOURCE_CLUSTER]: 'cluster2' },
  annotations: { [EXPORTED_AT_ANNOTATION]: '2026-01-01T00:00:00.000Z', [EXPORTED_LABELS_ANNOTATION]: '{"team":"a"}', [DNS_NAME_ANNOTATION]: 'web.shared.example' },
});

const containerState = struct({
  waiting: struct({ reason: value(anyText, 'ContainerCreating'), message: value(anyText, 'pulling') }),
  running: struct({ startedAt: value(time, '2026-01-01T00:00:00.000Z') }),
  terminated: struct({ exitCode: required(fc.integer({ min: 0, max: 255 }), 7), reason: value(anyText, 'Error'), message: value(anyText, '{"throughputBitsPerSecond":1}') }),
});

const pod = struct(
  {
    metadata: meta({ name: 'cnf-b', namespace: 'fleetboard-system', labels: { [LEADER_LABEL]: 'true' }, annotations: { ...podNetwork, [tunnelAnnotations.publicKey]: key, [tunnelAnnotations.port]: '51820' } }),
    spec: struct({ nodeName: value(names, 'node2', { empty: '' }), hostNetwork: value(fc.boolean(), false) }),
    status: struct({
      phase: value(oneOf('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'), 'Running'),
      message: value(anyText, 'ok'),
      reason: value(anyText, 'Evicted'),
      podIP: value(ip, '10.244.1.3', { empty: '' }),
      startTime: value(time, '2026-01-01T00:00:00.000Z'),
      conditions: list(condition),
      containerStatuses: list(struct({ name: required(oneOf('plugin', 'controller', 'curl'), 'plugin'), restartCount: value(fc.nat(), 0), ready: value(fc.boolean(), true), state: containerState }, false)),
    }),
  },
  false,
);

const node = struct(
  {
    metadata: meta({ name: 'node2' }),
    spec: struct({ podCIDR: value(cidr, '10.244.1.0/24'), podCIDRs: list(required(cidr, '10.244.1.0/24')) }),
    status: struct({
      addresses: list(struct({ type: required(oneOf('InternalIP', 'Hostname'), 'InternalIP'), address: required(fc.oneof(ip, names), '192.168.1.2') }, false)),
      conditions: list(condition),
      nodeInfo: struct({ containerRuntimeVersion: value(anyText, 'containerd://2.4.0'), kubeletVersion: value(anyText, 'v1.35.4') }),
    }),
  },
  false,
);

const lease = struct(
  {
    metadata: meta({ name: 'fleetboard-leader', namespace: 'fleetboard-system' }),
    spec: struct({
      holderIdentity: value(fc.oneof(names, anyText), 'cnf-a', { empty: '' }),
      leaseDurationSeconds: value(fc.integer({ min: 1, max: 60 }), 15),
      acquireTime: value(time, '2026-01-01T00:00:00.000000Z'),
      renewTime: value(time, '2026-01-01T00:00:10.000000Z'),
      leaseTransitions: value(fc.nat(), 2),
    }),
  },
  false,
);

const tunnelCounters = { lastHandshake: value(time, '2026-01-01T00:00:00.000Z'), rxBytes: value(fc.nat(), 100), txBytes: value(fc.nat(), 200) };
const peer = struct(
  {
    metadata: meta({ name: 'cluster2', namespace: 'fleetboard-cluster-cluster2' }),
    spec: struct({
      clusterID: required(clusters, 'cluster2'),
      clusterCIDR: list(required(cidr, '10.113.0.0/16')),
      endpoint: value(fc.oneof(ip, anyText), '203.0.113.2', { empty: '' }),
      port: value(fc.integer({ min: 0, max: 65_535 }), 31820),
      publicKey: value(publicKey, key, { empty: '' }),
      isHub: value(fc.boolean(), false),
      isPublic: value(fc.boolean(), true),
    }),
    status: struct({
      acceptedPublicKey: value(publicKey, key),
      conditions: list(condition),
      tunnel: struct({ gatewayNode: value(names, 'node1'), since: value(time, '2026-01-01T00:00:00.000Z'), direct: list(struct({ clusterID: required(clusters, 'cluster1'), ...tunnelCounters }, false)), mtu: value(fc.integer({ min: 0, max: 9000 }), 1420), underlayMtu: value(fc.integer({ min: 0, max: 9000 }), 1500), ...tunnelCounters }),
    }),
  },
  false,
);

const joinRequest = struct(
  {
    metadata: meta({ name: 'cluster2' }),
    spec: struct({ clusterID: required(clusters, 'cluster2'), publicKey: required(publicKey, key), sessionKey: required(publicKey, key) }),
    status: struct({
      phase: value(oneOf('Approved', 'Refused'), 'Approved'),
      message: value(anyText, 'joined'),
      namespace: value(namespaces, 'fleetboard-cluster-cluster2'),
      clusterCIDR: value(cidr, '10.113.0.0/16'),
      credentials: struct({ ciphertext: value(anyText, 'AAAA'), nonce: value(anyText, 'BBBB'), senderKey: value(publicKey, key) }),
    }),
  },
  false,
);

const configMap = struct({ metadata: meta({ name: 'fleetboard-node-cidrs', namespace: 'fleetboard-system' }), data: stringMap(names, cidr, { node1: '10.112.1.0/24', node2: '10.112.2.0/24' }) }, false);
const namespace = struct({ metadata: meta({ name: 'fleetboard-cluster-cluster2', annotations: { [CLUSTER_CIDR_ANNOTATION]: '10.113.0.0/16' } }), status: struct({ phase: value(oneOf('Active', 'Terminating'), 'Active') }) }, false);
const base64 = (text: string) => Buffer.from(text).toString('base64');
const secret = struct(
  {
    metadata: meta({ name: 'bootstrap-token-abcdef', namespace: 'kube-system' }),
    type: value(oneOf('bootstrap.kubernetes.io/token', 'Opaque'), 'bootstrap.kubernetes.io/token'),
    data: stringMap(oneOf('token-id', 'expiration', 'auth-extra-groups', 'description'), fc.oneof(anyText.map(base64), anyText), {
      'token-id': base64('abcdef'),
      expiration: base64('2030-01-01T00:00:00Z'),
      'auth-extra-groups': base64('system:bootstrappers:fleetboard'),
    }),
  },
  false,
);

/** The kinds, by the name the property test reports. */
export const KINDS = {
  EndpointSlice: slice,
  Service: service,
  ServiceExport: serviceExport,
  ServiceImport: localImport,
  HubServiceImport: hubImport,
  Pod: pod,
  Node: node,
  Lease: lease,
  Peer: peer,
  JoinRequest: joinRequest,
  ConfigMap: configMap,
  Namespace: namespace,
  Secret: secret,
} as const;

export type KindName = keyof typeof KINDS;
