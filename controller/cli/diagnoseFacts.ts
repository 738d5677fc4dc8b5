import { request, type RequestOptions } from 'node:https';
import { isIPv4 } from 'node:net';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { decodePodNetwork } from '../ipam/annotations.js';
import { isNotFound } from '../kube/apiErrors.js';
import { ConfigMapKind, NodeKind, PodKind, ServiceKind, type Node, type Pod } from '../objects/core.js';
import { decodeItems, type ObjectDecodeError, type ObjectKind } from '../objects/decode.js';
import type { ApiObject } from '../objects/fields.js';
import type { ClockFacts, MemberFacts, NodeFacts } from './diagnoseRules.js';
import { AGENT_NAMESPACE } from './join.js';
import { CNF_SELECTOR, CROSSDNS_DEPLOYMENT, type MemberInfo } from './memberInfo.js';

/** A pod younger than this may still be getting its address. */
const SETTLE_MS = 60_000;

const orUndefined = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });

/** Whether a pod's annotations give it a global address; a malformed annotation gives none. */
function hasGlobalAddress(p: Pod): boolean {
  try {
    return decodePodNetwork(p.metadata.annotations)?.ipAddress !== undefined;
  } catch {
    return false;
  }
}

/** What diagnose knows of one node, from the node, the pods running and its cnf pod. Pure. */
export function nodeFacts(node: Node, pods: readonly Pod[], cnf: Pod | undefined, now: number): NodeFacts {
  const name = node.metadata.name;
  const plugin = cnf?.status.containerStatuses.find((c) => c.name === 'plugin');
  const unaddressed = pods.filter(
    (p) =>
      p.spec.nodeName === name &&
      !p.spec.hostNetwork &&
      p.status.phase === 'Running' &&
      now - new Date(p.status.startTime ?? now).getTime() > SETTLE_MS &&
      p.metadata.uid !== cnf?.metadata.uid && // the cnf pod is the plugin's own: it has no second interface
      !hasGlobalAddress(p),
  );
  return {
    name,
    runtime: node.status.nodeInfo?.containerRuntimeVersion ?? 'unknown runtime',
    podCidrs: node.spec.podCIDRs.filter((c) => isIPv4(c.split('/')[0] ?? '')),
    addresses: node.status.addresses.map((a) => a.address).filter((a) => isIPv4(a)),
    cnf: cnf ? { pluginReady: plugin?.ready === true, pluginRestarts: plugin?.restartCount ?? 0, waiting: plugin?.state?.waiting?.reason } : undefined,
    unaddressedPods: unaddressed.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`),
  };
}

/** What diagnose needs to know about one member, read from its apiserver. */
export async function readMemberFacts(m: MemberInfo, now = Date.now()): Promise<MemberFacts> {
  const core = m.kc.makeApiClient(CoreV1Api);
  const [nodeList, podList, cnfList, kubernetesRaw, kubeDnsRaw, corednsRaw, crossdnsRaw] = await Promise.all([
    core.listNode(),
    core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running' }),
    core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: CNF_SELECTOR }),
    orUndefined(core.readNamespacedService({ name: 'kubernetes', namespace: 'default' })),
    orUndefined(core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' })),
    orUndefined(core.readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' })),
    orUndefined(core.readNamespacedService({ name: CROSSDNS_DEPLOYMENT, namespace: AGENT_NAMESPACE })),
  ]);
  // diagnose reports what it can: an object it cannot read is left out with a warning, not a crash.
  const skip = (err: ObjectDecodeError) => process.stderr.write(`warning: ${m.clusterID}: ${err.message}\n`);
  const nodes = decodeItems(NodeKind, nodeList.items, skip);
  const pods = decodeItems(PodKind, podList.items, skip);
  const cnfPods = decodeItems(PodKind, cnfList.items, skip);
  const one = <T extends ApiObject>(kind: ObjectKind<T>, raw: unknown) => (raw === undefined ? undefined : decodeItems(kind, [raw], skip)[0]);
  const [kubernetes, kubeDns, crossdns] = [one(ServiceKind, kubernetesRaw), one(ServiceKind, kubeDnsRaw), one(ServiceKind, crossdnsRaw)];
  const coredns = one(ConfigMapKind, corednsRaw);
  return {
    clusterID: m.clusterID,
    globalCidr: m.globalCidr,
    nodes: nodes.map((n) => nodeFacts(n, pods, cnfPods.find((p) => p.spec.nodeName === n.metadata.name && !p.metadata.deletionTimestamp), now)),
    serviceIps: [kubernetes?.spec.clusterIP, kubeDns?.spec.clusterIP].filter((ip): ip is string => ip !== undefined && isIPv4(ip)),
    corefile: coredns?.data.Corefile,
    crossdnsIp: crossdns?.spec.clusterIP,
    zones: m.zones,
  };
}

/** The apiserver's clock against this machine's, from the Date header of /version (1 s resolution). */
export async function readClockOffset(cluster: string, kc: KubeConfig): Promise<ClockFacts> {
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const options: RequestOptions = { hostname: server.hostname, port: Number(server.port || 443), path: '/version', method: 'GET', timeout: 10_000 };
  await kc.applyToHTTPSOptions(options);
  const sent = Date.now();
  const date = await new Promise<string>((resolve, reject) => {
    const req = request(options, (res) => {
      res.resume();
      resolve(res.headers.date ?? '');
    });
    req.on('timeout', () => req.destroy(new Error(`${cluster}: no answer from ${server.host} within 10 s`)));
    req.on('error', reject);
    req.end();
  });
  const received = Date.now();
  const at = Date.parse(date);
  if (Number.isNaN(at)) throw new Error(`${cluster}: the apiserver sent no Date header`);
  // The header is truncated to the second: compare with the middle of the request, +0.5 s.
  return { cluster, offsetSeconds: (at + 500 - (sent + received) / 2) / 1000 };
}
