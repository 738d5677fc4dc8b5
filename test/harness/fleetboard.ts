import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { AGENT_NAMESPACE } from '../../hack/testbed/fleetboardAgent.js';
import { podNetnsName } from '../../hack/testbed/plan.js';
import { runIn } from './run.js';
import { waitFor } from './wait.js';

/** What `ip -j addr show eth-fleet` says inside a pod. */
export interface FleetInterface {
  ip: string;
  prefix: number;
  mtu: number;
  mac: string;
}

interface IpAddrJson {
  mtu: number;
  address: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

/** The pod's second interface as seen from inside its netns; undefined when it has none. */
export async function fleetInterface(cluster: string, pod: V1Pod, ifName = 'eth-fleet'): Promise<FleetInterface | undefined> {
  const netns = podNetnsName(cluster, pod.metadata?.uid ?? '');
  const r = await runIn(netns, 'ip', ['-j', 'addr', 'show', 'dev', ifName]).catch(() => undefined);
  const link = r ? (JSON.parse(r.stdout) as IpAddrJson[])[0] : undefined;
  const inet = link?.addr_info.filter((a) => a.family === 'inet') ?? [];
  if (!link || inet.length !== 1 || !inet[0]) return undefined;
  return { ip: inet[0].local, prefix: inet[0].prefixlen, mtu: link.mtu, mac: link.address };
}

export async function cnfPods(kc: KubeConfig): Promise<V1Pod[]> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: 'fleetboard.io/role=cnf' });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Host-side veth ends (fbp…) in the cnf netns of `node`. */
export async function hostEnds(cluster: string, kc: KubeConfig, node: string): Promise<string[]> {
  const cnf = (await cnfPods(kc)).find((p) => p.spec?.nodeName === node);
  if (!cnf) throw new Error(`no cnf pod on ${node}`);
  const { stdout } = await runIn(podNetnsName(cluster, cnf.metadata?.uid ?? ''), 'ip', ['-j', 'link', 'show', 'type', 'veth']);
  return (JSON.parse(stdout) as { ifname: string }[]).map((l) => l.ifname.split('@')[0] ?? '').filter((n) => n.startsWith('fbp'));
}

/** Waits until the node CIDR record names every node; returns node → CIDR. */
export async function waitForNodeCidrs(kc: KubeConfig, nodes: number, timeoutMs = 60_000): Promise<Map<string, string>> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(
    async () => {
      const cm = await core.readNamespacedConfigMap({ name: 'fleetboard-node-cidrs', namespace: AGENT_NAMESPACE });
      const data = new Map(Object.entries(cm.data ?? {}));
      return data.size === nodes ? data : undefined;
    },
    { what: `node CIDRs for ${nodes} nodes`, timeoutMs, intervalMs: 300 },
  );
}
