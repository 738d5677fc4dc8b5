import { stringify } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterPlan } from './plan.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const tolerateAll = [{ operator: 'Exists' }];

/** A kube-system ServiceAccount and the ClusterRoleBinding that grants it `clusterRole`. */
function serviceAccountBoundTo(name: string, clusterRole: string, binding: string): KubernetesObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name, namespace: 'kube-system' }],
    } as KubernetesObject,
  ];
}

/** kube-proxy as kubeadm deploys it: a host-network DaemonSet with its ServiceAccount's token. */
function kubeProxy(c: ClusterPlan): KubernetesObject[] {
  const kubeconfig = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster: { 'certificate-authority': `${SA_DIR}/ca.crt`, server: `https://${c.controlPlane.ip}:${c.controlPlane.port}` } }],
    contexts: [{ name: 'default', context: { cluster: 'default', namespace: 'default', user: 'default' } }],
    'current-context': 'default',
    users: [{ name: 'default', user: { tokenFile: `${SA_DIR}/token` } }],
  });
  const labels = { 'k8s-app': 'kube-proxy' };
  return [
    ...serviceAccountBoundTo('kube-proxy', 'system:node-proxier', 'testbed:kube-proxy'),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'kubeconfig.conf': kubeconfig } } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system', labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            serviceAccountName: 'kube-proxy',
            tolerations: tolerateAll,
            containers: [
              {
                name: 'kube-proxy',
                image: 'registry.k8s.io/kube-proxy:v1.35.4',
                command: [
                  '/usr/local/bin/kube-proxy',
                  '--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf',
                  '--hostname-override=$(NODE_NAME)',
                  '--proxy-mode=nftables',
                  `--cluster-cidr=${c.podCidr}`,
                  '--conntrack-max-per-core=0',
                  '--conntrack-tcp-timeout-established=0',
                  '--conntrack-tcp-timeout-close-wait=0',
                  '--metrics-bind-address=127.0.0.1:10249',
                ],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                securityContext: { privileged: true },
                volumeMounts: [{ name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' }],
              },
            ],
            volumes: [{ name: 'kube-proxy', configMap: { name: 'kube-proxy' } }],
          },
        },
      },
    } as KubernetesObject,
  ];
}

/** The kubeadm default Corefile: cluster names from the API, everything else forwarded. */
const DEFAULT_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

/** CoreDNS as each cluster's DNS: ConfigMap `coredns`, Deployment `coredns`, Service `kube-dns`. */
function coreDns(c: ClusterPlan): KubernetesObject[] {
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as KubernetesObject,
    ...serviceAccountBoundTo('coredns', 'system:coredns', 'system:coredns'),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: DEFAULT_COREFILE } } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            tolerations: tolerateAll,
            containers: [
              {
                name: 'coredns',
                image: 'registry.k8s.io/coredns/coredns:v1.14.7',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 5 },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        selector: labels,
        clusterIP: c.dnsServiceIp,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    } as KubernetesObject,
  ];
}

/** Everything a fresh cluster of the testbed needs before workloads: kube-proxy and cluster DNS. */
export function clusterAddons(c: ClusterPlan): KubernetesObject[] {
  return [...kubeProxy(c), ...coreDns(c)];
}
