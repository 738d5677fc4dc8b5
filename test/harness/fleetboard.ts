import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { decodePodNetwork } from '../../controller/ipam/annotations.js';
import { hostInterfaceName } from '../../plugin/netns/podInterface.js';
import { AGENT_NAMESPACE, agentValues, CLUSTERSET_ZONE, CROSSDNS_SELECTOR, DEFAULT_CROSSDNS_IP, DEFAULT_SEED_ZONE, type AgentOptions } from '../../hack/testbed/fleetboardAgent.js';
import { forwardClusterDns } from '../../hack/testbed/clusterDnsForwarding.js';
import { helmInstall } from '../../hack/testbed/charts.js';
import { podNetnsOf } from '../../hack/testbed/testbed.js';
import { testbedPaths } from '../../hack/testbed/paths.js';
import { CNF_SELECTOR } from '../../controller/cli/memberInfo.js';
import { LEADER_LABEL } from '../../controller/leader/leaderLabel.js';
import { DEFAULT_GLOBAL_CIDR } from '../../controller/options.js';
import { waitForReadyPods } from './cluster.js';
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
  // A pod without a sandbox (or, on a real node, without a running container) has no interface to show.
  const r = await Promise.resolve()
    .then(() => runIn(podNetnsOf(cluster, pod), 'ip', ['-j', 'addr', 'show', 'dev', ifName]))
    .catch(() => undefined);
  const link = r ? (JSON.parse(r.stdout) as IpAddrJson[])[0] : undefined;
  const inet = link?.addr_info.filter((a) => a.family === 'inet') ?? [];
  if (!link || inet.length !== 1 || !inet[0]) return undefined;
  return { ip: inet[0].local, prefix: inet[0].prefixlen, mtu: link.mtu, mac: link.address };
}


/** Installs the agent with `helm install` and waits for a ready cnf pod on each of `nodes` nodes. */
export async function installAgent(kc: KubeConfig, options: AgentOptions, nodes: number): Promise<void> {
  await helmInstall(kc, 'fleetboard-agent', AGENT_NAMESPACE, agentValues(options));
  await waitForReadyPods(kc, AGENT_NAMESPACE, CNF_SELECTOR, nodes);
  await waitForReadyPods(kc, AGENT_NAMESPACE, CROSSDNS_SELECTOR, 2);
  // As the README has users do: cluster DNS forwards the clusterset zones, and reverse lookups of the global CIDR, to crossdns.
  const zones = [CLUSTERSET_ZONE, options.dns?.zone ?? DEFAULT_SEED_ZONE, ...(options.dns?.customZones ?? []), DEFAULT_GLOBAL_CIDR];
  if (await forwardClusterDns(kc, zones, options.dns?.clusterIP ?? DEFAULT_CROSSDNS_IP)) {
    await waitForReadyPods(kc, 'kube-system', 'k8s-app=kube-dns', 2);
  }
}

/** A pod's global address, from its fleetboard.io/ annotations; '' when it has none. */
export const globalIp = (p: V1Pod): string => decodePodNetwork(p.metadata?.annotations)?.ipAddress ?? '';

/** The network namespace a (non-host-network) pod of `cluster` runs in. */
export const netnsOf = (cluster: string, p: V1Pod): string => podNetnsOf(cluster, p);

/** The cnf pod that carries the leader label (and is not being deleted). */
export async function leaderCnf(kc: KubeConfig): Promise<V1Pod> {
  return waitFor(async () => (await cnfPods(kc)).find((p) => p.metadata?.labels?.[LEADER_LABEL] === 'true'), { what: 'a leader cnf pod', timeoutMs: 30_000 });
}

/** The <title> of the page `curl http://<host>/` fetches from `netns` (or the start of the body). */
export async function curlTitle(netns: string, host: string): Promise<string> {
  const { stdout } = await runIn(netns, 'curl', ['-sS', '--max-time', '5', `http://${host}/`]);
  return /<title>(.*)<\/title>/.exec(stdout)?.[1] ?? stdout.slice(0, 80);
}

export async function cnfPods(kc: KubeConfig): Promise<V1Pod[]> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: CNF_SELECTOR });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Network namespace of the cnf pod on `node`. */
async function cnfNetns(cluster: string, kc: KubeConfig, node: string): Promise<string> {
  const cnf = (await cnfPods(kc)).find((p) => p.spec?.nodeName === node);
  if (!cnf) throw new Error(`no cnf pod on ${node}`);
  return podNetnsOf(cluster, cnf);
}

/** Host-side veth ends (fbp…) in the cnf netns of `node`. */
export async function hostEnds(cluster: string, kc: KubeConfig, node: string): Promise<string[]> {
  const { stdout } = await runIn(await cnfNetns(cluster, kc, node), 'ip', ['-j', 'link', 'show', 'type', 'veth']);
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

/**
 * The backends the cnf pod on `node` load-balances a ClusterSetIP port to, as
 * `nft list table ip fleetboard_lb` in its netns shows them: `address:port`, sorted.
 */
export async function vipBackends(cluster: string, kc: KubeConfig, node: string, service: string, port: number): Promise<string[]> {
  const { stdout } = await runIn(await cnfNetns(cluster, kc, node), 'nft', ['list', 'table', 'ip', 'fleetboard_lb']);
  const chain = stdout.split(/\n\s*chain /).find((c) => c.includes(`comment "${service} `) && new RegExp(` ${port}/(TCP|UDP|SCTP)"`).test(c));
  if (!chain) return [];
  return [...chain.matchAll(/(\d+\.\d+\.\d+\.\d+) \. (\d+)/g)].map((m) => `${m[1] ?? ''}:${m[2] ?? ''}`).sort();
}

/** One sample of a metric the controller on `node` exports, as Prometheus would scrape it; undefined when absent. */
export async function controllerMetric(cluster: string, kc: KubeConfig, node: string, name: string): Promise<number | undefined> {
  const { stdout } = await runIn(await cnfNetns(cluster, kc, node), 'curl', ['-sf', '--max-time', '5', 'http://127.0.0.1:9464/metrics']);
  const line = stdout.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Pods that must have the interface: running in their own netns, not FleetBoard's own. */
export async function wiredPods(kc: KubeConfig): Promise<V1Pod[]> {
  const pods = await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces();
  return pods.items.filter(
    (p) => p.status?.phase === 'Running' && !p.spec?.hostNetwork && !p.metadata?.deletionTimestamp && p.metadata?.labels?.['fleetboard.io/role'] !== 'cnf',
  );
}

/**
 * The invariant a user relies on: every live pod has exactly one interface
 * with its annotated address, no two pods share an address, each cnf netns
 * holds exactly one veth per pod on its node, and each node's IPAM holds
 * exactly as many addresses as the node has wired pods (none leaked).
 */
export async function assertEveryPodWiredOnce(cluster: string, kc: KubeConfig, nodeCidrs: Map<string, string>): Promise<number> {
  const pods = await wiredPods(kc);
  const owners = new Map<string, string>();
  for (const p of pods) {
    const key = `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
    const net = decodePodNetwork(p.metadata?.annotations);
    assert.ok(net, `${key} has fleetboard.io/ annotations`);
    assert.ok(!owners.has(net.ipAddress), `${net.ipAddress} given to both ${owners.get(net.ipAddress) ?? ''} and ${key}`);
    owners.set(net.ipAddress, key);
    assert.equal(net.cidr, nodeCidrs.get(p.spec?.nodeName ?? ''), `${key} address comes from its node's CIDR`);
    const nic = await fleetInterface(cluster, p);
    assert.equal(nic?.ip, net.ipAddress, `${key} eth-fleet holds the annotated address`);
  }
  for (const node of nodeCidrs.keys()) {
    const expected = pods.filter((p) => p.spec?.nodeName === node).map((p) => hostInterfaceName(p.metadata?.uid ?? '')).sort();
    assert.deepEqual((await hostEnds(cluster, kc, node)).sort(), expected, `veths in the cnf netns of ${node} are exactly its pods'`);
    const inUse = await controllerMetric(cluster, kc, node, 'fleetboard_ipam_addresses_in_use');
    assert.equal(inUse, expected.length, `the IPAM of ${node} holds one address per wired pod`);
  }
  return pods.length;
}

/** Waits until the invariant holds (pods settle asynchronously after churn). */
export async function settleWiring(cluster: string, kc: KubeConfig, nodeCidrs: Map<string, string>, what: string): Promise<number> {
  return waitFor(() => assertEveryPodWiredOnce(cluster, kc, nodeCidrs), { what, timeoutMs: 180_000, intervalMs: 2000 });
}

/** The log files of every FleetBoard container on the testbed (plugin, controller, hub, crossdns), with their sizes now. */
export async function componentLogs(): Promise<Map<string, number>> {
  const run = testbedPaths().runDir;
  const files = (await readdir(run, { recursive: true })).map((f) => join(run, f)).filter((f) => /\/containers\/(plugin|controller|hub|crossdns)\/\d+\/log$/.test(f));
  // A pod being deleted takes its logs with it, between the listing and the look.
  const sizes = await Promise.all(files.map(async (f) => [f, (await stat(f).catch(() => undefined))?.size] as const));
  return new Map(sizes.filter((e): e is readonly [string, number] => e[1] !== undefined));
}

/** What FleetBoard's containers logged since `marks` (a container started since then, all of it). */
export async function loggedSince(marks: ReadonlyMap<string, number>): Promise<{ file: string; line: string }[]> {
  const lines: { file: string; line: string }[] = [];
  for (const file of (await componentLogs()).keys()) {
    const text = ((await readFile(file).catch(() => undefined)) ?? Buffer.alloc(0)).subarray(marks.get(file) ?? 0).toString('utf8');
    for (const line of text.split('\n')) if (line) lines.push({ file, line });
  }
  return lines;
}

/**
 * A reconcile pass that failed, as a whole or for one object, or a process
 * that could not start: what FleetBoard must never log for objects the API may send.
 */
export const FAILED_PASS = /failed; retrying|retrying it|failed to start|is not iterable|handler failed|Cannot read properties/;

/** Each container's restart count, by `<pod>/<container>`, of the pods `selector` picks in `namespace`. */
export async function restartCounts(kc: KubeConfig, namespace: string, selector: string): Promise<Map<string, number>> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector });
  return new Map(pods.items.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => [`${p.metadata?.name ?? ''}/${c.name}`, c.restartCount] as const)));
}
