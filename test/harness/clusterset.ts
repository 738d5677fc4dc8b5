import { readFile } from 'node:fs/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { testbedStatus } from '../../hack/testbed/testbed.js';
import { helmInstall } from '../../hack/testbed/charts.js';
import { setPortForwards } from '../../hack/testbed/network.js';
import { BOOTSTRAP_TOKEN_SECRET, HUB_CNF_SELECTOR, HUB_NAMESPACE, hubValues, type HubInstallOptions } from '../../hack/testbed/fleetboardHub.js';
import { AGENT_NAMESPACE, type AgentOptions } from '../../hack/testbed/fleetboardAgent.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, HUB_PEER_NAME, PEER_PLURAL, memberNamespace, type NamedPeer } from '../../controller/clusterset/peer.js';
import { PeerKind } from '../../controller/objects/fleetboard.js';
import { readIfFound } from './objects.js';
import { LEADER_LABEL } from '../../controller/leader/leaderLabel.js';
import { HUB_CREDENTIALS_SECRET } from '../../controller/member/credentialStore.js';
import { hubKubeConfig } from '../../controller/member/hubKubeConfig.js';
import { waitForReadyPods } from './cluster.js';
import { installAgent } from './fleetboard.js';
import { run } from './run.js';
import { waitFor } from './wait.js';

/** The hub's apiserver as members see it: its URL on the wan and its CA. */
export function hubEndpoint(): { url: string; tunnelEndpoint: string } {
  const status = testbedStatus();
  const hub = status?.plan.clusters.find((c) => c.role === 'hub');
  if (!hub) throw new Error('the testbed is not up with a hub');
  const node = hub.nodes[0];
  if (!node) throw new Error('the hub has no nodes');
  return { url: `https://${hub.controlPlane.ip}:${hub.controlPlane.port}`, tunnelEndpoint: node.ip };
}

/**
 * Makes a member reachable from the wan, as an admin forwarding a port of
 * their router: the NAT gateway forwards UDP `port` to the first node (a
 * NodePort of the same number there reaches the leader cnf). Returns the
 * endpoint other clusters dial.
 */
export async function exposeMember(cluster: string, port: number): Promise<{ host: string; port: number }> {
  const c = testbedStatus()?.plan.clusters.find((p) => p.name === cluster);
  const node = c?.nodes[0];
  if (!c?.gateway || !node) throw new Error(`${cluster} is not a member with nodes in the running testbed`);
  await setPortForwards(c, [{ port, to: node.ip }]);
  return { host: c.gateway.wanIp, port };
}

/** The CA the admin kubeconfig of `kc` trusts. */
export function caOf(kc: KubeConfig): string {
  const data = kc.getCurrentCluster()?.caData;
  if (!data) throw new Error('kubeconfig has no CA data');
  return Buffer.from(data, 'base64').toString('utf8');
}

/** Installs the hub with `helm install` and waits for its leader to publish the hub Peer. Returns the join token the chart made. */
export async function installHub(hubKc: KubeConfig, opts: Partial<HubInstallOptions> & { nodes: number }): Promise<string> {
  const namespace = opts.namespace ?? HUB_NAMESPACE;
  await helmInstall(hubKc, 'fleetboard', namespace, hubValues({ endpoint: hubEndpoint().tunnelEndpoint, ...opts }));
  await waitForReadyPods(hubKc, namespace, HUB_CNF_SELECTOR, opts.nodes);
  await waitFor(() => hubPeer(hubKc, namespace, HUB_PEER_NAME).then((p) => (p?.spec.publicKey ? p : undefined)), { what: 'the hub Peer', timeoutMs: 60_000 });
  return joinToken(hubKc, namespace);
}

/** The join token the hub chart keeps, as its NOTES tell users to read it. */
export async function joinToken(hubKc: KubeConfig, namespace = HUB_NAMESPACE): Promise<string> {
  const secret = await hubKc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: BOOTSTRAP_TOKEN_SECRET, namespace });
  const token = secret.data?.token;
  if (!token) throw new Error(`${namespace}/${BOOTSTRAP_TOKEN_SECRET} holds no token`);
  return Buffer.from(token, 'base64').toString('utf8');
}

/** A Peer in the hub; undefined until it exists with a spec. */
export async function hubPeer(hubKc: KubeConfig, namespace: string, name: string): Promise<NamedPeer | undefined> {
  const custom = hubKc.makeApiClient(CustomObjectsApi);
  const peer = readIfFound(PeerKind, await custom.getNamespacedCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace, name }).catch(() => undefined));
  return peer?.spec ? { ...peer, spec: peer.spec } : undefined;
}

/** hub.hubURL, the hub CA, hub.bootstrapToken and cluster.clusterID: what a member's agent install is given. */
export function joinMaterial(hubKc: KubeConfig, clusterID: string, bootstrapToken: string): NonNullable<AgentOptions['hub']> {
  return { url: hubEndpoint().url, caPem: caOf(hubKc), bootstrapToken, clusterID };
}

/** Installs the agent in a member with the join material and waits until its Peer shows the hub accepted its gateway. */
export async function joinMember(kc: KubeConfig, hubKc: KubeConfig, clusterID: string, bootstrapToken: string, nodes: number, extra: Partial<AgentOptions> = {}): Promise<NamedPeer> {
  await installAgent(kc, { hub: joinMaterial(hubKc, clusterID, bootstrapToken), ...extra }, nodes);
  return waitFor(
    async () => {
      const p = await hubPeer(hubKc, memberNamespace(clusterID), clusterID);
      return p?.status.acceptedPublicKey && p.status.acceptedPublicKey === p.spec.publicKey ? p : undefined;
    },
    { what: `${clusterID} joined and its gateway accepted by the hub`, timeoutMs: 90_000, intervalMs: 500 },
  );
}

/** A client of the hub with the credentials a member got when it joined (read from the member's own Secret). */
export async function memberHubClient(memberKc: KubeConfig, hubKc: KubeConfig): Promise<KubeConfig> {
  const secret = await memberKc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: HUB_CREDENTIALS_SECRET, namespace: AGENT_NAMESPACE });
  const token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
  return hubKubeConfig(hubKc.getCurrentCluster()?.server ?? '', caOf(hubKc), token);
}

/**
 * Processes whose command line holds `entry` (e.g. dist/controller/main.js) in `netns`. A child the
 * process has just forked still carries its parent's command line until it execs, so a match whose
 * parent also matches is that child, not a second copy of the program.
 */
export async function pidsIn(netns: string, entry: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', netns]);
  const matches = new Map<number, number>();
  for (const pid of stdout.split('\n').filter(Boolean).map(Number)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(entry)) matches.set(pid, await parentOf(pid));
  }
  return [...matches].filter(([, parent]) => !matches.has(parent)).map(([pid]) => pid);
}

async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name in parentheses may hold spaces; the fields after its closing one are fixed.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
}

/** Sends SIGKILL to the processes running `entry` (e.g. dist/controller/main.js) in `netns`; returns how many. */
export async function killIn(netns: string, entry: string): Promise<number> {
  const pids = await pidsIn(netns, entry);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids.length;
}

/** The hub cnf pod that carries the leader label (and is not being deleted). */
export async function hubLeader(hub: KubeConfig): Promise<V1Pod> {
  const pods = async () => (await hub.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: HUB_NAMESPACE, labelSelector: HUB_CNF_SELECTOR })).items;
  return waitFor(async () => (await pods()).find((p) => p.metadata?.labels?.[LEADER_LABEL] === 'true' && !p.metadata.deletionTimestamp), { what: 'the hub leader cnf', timeoutMs: 30_000 });
}
