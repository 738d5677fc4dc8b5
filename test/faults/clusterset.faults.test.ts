import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, RbacAuthorizationV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { down, kubeConfigFor, podNetns, up } from '../../hack/testbed/testbed.js';
import { testbedControl, type ControlAction } from '../../hack/testbed/control.js';
import { testbedPaths } from '../../hack/testbed/paths.js';
import { HUB_NAMESPACE } from '../../hack/testbed/fleetboardHub.js';
import { AGENT_NAMESPACE } from '../../hack/testbed/fleetboardAgent.js';
import { httpCode, isNotFound } from '../../controller/kube/apiErrors.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, PEER_PLURAL, memberNamespace } from '../../controller/clusterset/peer.js';
import { CredentialStore } from '../../controller/member/credentialStore.js';
import { readerBindingName } from '../../controller/hub/memberAccess.js';
import { HubJoiner } from '../../controller/member/join.js';
import { generatePrivateKey, publicKeyOf } from '../../controller/wireguard/keys.js';
import { LABEL_MANAGED_BY, MANAGED_BY, MCS_GROUP, MCS_VERSION, importMadeByFleetBoard } from '../../controller/mcs/api.js';
import { EndpointSliceKind } from '../../controller/objects/discovery.js';
import { ServiceImportKind, type ServiceImport } from '../../controller/objects/mcs.js';
import { readAs, readItems } from '../harness/objects.js';
import { createNginxApp, createPauseDeployment, scaleDeployment, waitForReadyPods } from '../harness/cluster.js';
import { cnfPods, componentLogs, curlTitle, globalIp, leaderCnf, loggedSince, netnsOf, settleWiring, waitForNodeCidrs, wiredPods } from '../harness/fleetboard.js';
import { caOf, hubLeader, hubPeer, installHub, joinMember, killIn, memberHubClient, pidsIn } from '../harness/clusterset.js';
import { fleetctl } from '../harness/fleetctl.js';
import { longestGap, outageDuring, probeReachability } from '../harness/outage.js';
import { runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';
import { startChurn } from './churn.js';

const MEMBERS = ['cluster1', 'cluster2'] as const;
type Member = (typeof MEMBERS)[number];
/** The same short leases as the clusterset e2e: a crashed leader is replaced within seconds. */
const AGENT = { leaseDuration: 4, renewDeadline: 3, retryPeriod: 1, keepalive: 5 };
/** How long the hub's apiserver stays down; the issue asks for 60 s. */
const HUB_OUTAGE_MS = Number(process.env.HUB_OUTAGE_SECONDS ?? 60) * 1000;
/** Targets of the tunnels issue: a crashed leader's traffic resumes within 10 s. */
const CRASH_OUTAGE_TARGET_S = 10;
const silent = pino({ level: 'silent' });
/** The soak: SOAK_SECONDS of churn (60 in CI; 1800 for the long run), SOAK_RATE pods created per second across both members. */
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const SOAK_RATE = Number(process.env.SOAK_RATE ?? 10);
/** Churn pods alive at once per member: each one created beyond this deletes the oldest. */
const SOAK_POPULATION = 40;
/** Allowed RSS growth of one process over the soak: generous for GC noise, far below a leak of one object per pod. */
const SOAK_RSS_GROWTH_KB = 64 * 1024;

const control = (action: ControlAction) => testbedControl(testbedPaths().controlSocket, action);
const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default' };



async function exportService(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'default', body: { metadata: { name }, spec: { selector: { app: 'nginx-app' }, ports: [{ name: 'http', port: 80 }] } } });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name } } });
}

async function unexportService(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...exportApi, name }).catch(() => undefined);
  await kc.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'default', name }).catch(() => undefined);
}

/** The import of `name` in a member with its endpoints' addresses; undefined while it has none. */
async function imported(kc: KubeConfig, name: string): Promise<{ ip: string; endpoints: string[] } | undefined> {
  let imp: ServiceImport;
  try {
    imp = readAs(ServiceImportKind, await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...importApi, name }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const slices = readItems(EndpointSliceKind, await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: `multicluster.kubernetes.io/service-name=${name}` }));
  const endpoints = slices.flatMap((s) => s.endpoints.flatMap((e) => e.addresses)).sort();
  const ip = imp.spec.ips[0];
  return ip && endpoints.length > 0 ? { ip, endpoints } : undefined;
}

/** What a member published in the hub, by object, with each one's resourceVersion: any write changes it. */
async function hubRecords(hub: KubeConfig, cluster: Member): Promise<Map<string, string>> {
  const namespace = memberNamespace(cluster);
  const imports = readItems(ServiceImportKind, await hub.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace }));
  const slices = readItems(EndpointSliceKind, await hub.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace }));
  const records = new Map<string, string>();
  for (const [kind, objects] of [['ServiceImport', imports], ['EndpointSlice', slices]] as const) {
    for (const o of objects) records.set(`${kind}/${o.metadata.name}`, o.metadata.resourceVersion ?? '');
  }
  return records;
}


/** Restart count of every cnf container of a member, by `<container> on <node>`. */
async function cnfRestarts(kc: KubeConfig): Promise<Map<string, number>> {
  return new Map((await cnfPods(kc)).flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => [`${c.name} on ${p.spec?.nodeName ?? ''}`, c.restartCount] as const)));
}

/** Resident memory (kB) of every process whose command line holds `entry`, inside `netns`. */
async function rssIn(netns: string, entry: string): Promise<number[]> {
  const sizes: number[] = [];
  for (const pid of await pidsIn(netns, entry)) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb) sizes.push(Number(kb));
  }
  return sizes;
}

describe('faults: the clusterset keeps working while its parts fail (hub + 2 members)', () => {
  let hub: KubeConfig;
  let bootstrapToken: string;
  const kc = {} as Record<Member, KubeConfig>;
  const nginx = {} as Record<Member, V1Pod[]>;

  before(async () => {
    await up({ clusters: 2, nodes: 2 });
    hub = kubeConfigFor('hub');
    bootstrapToken = await installHub(hub, { nodes: 2, leaseDuration: 4, renewDeadline: 3, retryPeriod: 1 });
    for (const c of MEMBERS) kc[c] = kubeConfigFor(c);
    await Promise.all(MEMBERS.map((c) => joinMember(kc[c], hub, c, bootstrapToken, 2, AGENT)));
    for (const c of MEMBERS) await createNginxApp(kc[c], 'default', 2);
    for (const c of MEMBERS) nginx[c] = await waitForReadyPods(kc[c], 'default', 'app=nginx-app', 2);
    await exportService(kc.cluster1, 'steady-svc');
    await waitFor(() => imported(kc.cluster2, 'steady-svc'), { what: 'cluster2 importing steady-svc', timeoutMs: 60_000, intervalMs: 500 });
    const client = nginx.cluster2[1] ?? assert.fail('a second cluster2 nginx pod');
    await waitFor(async () => ((await curlTitle(netnsOf('cluster2', client), 'steady-svc.default.svc.clusterset.local').catch(() => '')) === 'Welcome to nginx!' ? true : undefined), {
      what: 'cluster2 fetching steady-svc by name',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  after(async () => {
    if (!process.env.FAULTS_KEEP_TESTBED) await down();
  });

  /** Pings from a pod of `from` off its gateway node to a pod of the other member while `disrupt` runs. */
  async function crossClusterOutage(from: Member, disrupt: () => Promise<void>): Promise<{ outage: number; bitsPerSecond: number }> {
    const to: Member = from === 'cluster1' ? 'cluster2' : 'cluster1';
    const gateway = await leaderCnf(kc[from]);
    const source = nginx[from].find((p) => p.spec?.nodeName !== gateway.spec?.nodeName) ?? assert.fail(`an nginx pod of ${from} off its gateway node`);
    const target = nginx[to][0] ?? assert.fail(`an nginx pod in ${to}`);
    return outageDuring({ sourceNetns: netnsOf(from, source), targetNetns: netnsOf(to, target), targetIp: globalIp(target) }, disrupt);
  }

  test(`the hub's apiserver down for ${HUB_OUTAGE_MS / 1000} s: traffic between members keeps flowing, pods start and get addresses, imports stay; afterwards everything catches up`, async (t) => {
    const source = nginx.cluster1[0] ?? assert.fail('a cluster1 nginx pod');
    const target = nginx.cluster2[0] ?? assert.fail('a cluster2 nginx pod');
    const client = nginx.cluster2[1] ?? assert.fail('a second cluster2 nginx pod');
    const leaderBefore = await hubLeader(hub);
    const transitionsBefore = (await hub.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: HUB_NAMESPACE })).items.map((l) => `${l.metadata?.name ?? ''}:${l.spec?.leaseTransitions ?? 0}`);
    const statusBefore = (await hubPeer(hub, memberNamespace('cluster1'), 'cluster1'))?.status.tunnel?.txBytes ?? 0;
    const probe = probeReachability(netnsOf('cluster1', source), globalIp(target), 0.2);
    try {
      await waitFor(() => Promise.resolve(probe.replies().length >= 5 ? true : undefined), { what: 'replies before the outage', timeoutMs: 20_000 });
      const stoppedAt = Date.now();
      await control({ kind: 'apiserver', cluster: 'hub', verb: 'stop' });
      try {
        // Inside a member nothing depends on the hub's apiserver: a new pod starts, is wired and is reached.
        await createPauseDeployment(kc.cluster1, 'during-hub-outage', 2);
        const fresh = await waitForReadyPods(kc.cluster1, 'default', 'app=during-hub-outage', 2, 60_000);
        for (const p of fresh) {
          await waitFor(async () => ((await runIn(netnsOf('cluster1', source), 'ping', ['-c', '1', '-W', '1', globalIp(p)]).then(() => true, () => false)) ? true : undefined), {
            what: `cluster1 reaching its new pod ${globalIp(p)} while the hub is down`,
            timeoutMs: 20_000,
          });
        }
        // Imports are kept: cluster2 still resolves and reaches the service cluster1 exported.
        assert.ok(await imported(kc.cluster2, 'steady-svc'), 'cluster2 still imports steady-svc');
        assert.equal(await curlTitle(netnsOf('cluster2', client), 'steady-svc.default.svc.clusterset.local'), 'Welcome to nginx!');
        // An export made meanwhile has to wait for the hub.
        await exportService(kc.cluster1, 'late-svc');
        const remaining = stoppedAt + HUB_OUTAGE_MS - Date.now();
        // The outage itself: its length is the fault being injected, not a wait for a condition.
        if (remaining > 0) await delay(remaining);
        assert.ok(await imported(kc.cluster2, 'steady-svc'), `after ${HUB_OUTAGE_MS / 1000} s cluster2 still imports steady-svc`);
      } finally {
        await control({ kind: 'apiserver', cluster: 'hub', verb: 'start' });
      }
      const downFor = (Date.now() - stoppedAt) / 1000;
      // Afterwards: the export made during the outage arrives, and the gateways report to the hub again.
      const late = await waitFor(() => imported(kc.cluster2, 'late-svc'), { what: 'cluster2 importing late-svc once the hub is back', timeoutMs: 90_000, intervalMs: 1000 });
      assert.deepEqual(late.endpoints, nginx.cluster1.map(globalIp).sort());
      await waitFor(async () => (((await hubPeer(hub, memberNamespace('cluster1'), 'cluster1'))?.status.tunnel?.txBytes ?? 0) > statusBefore ? true : undefined), {
        what: 'cluster1\'s gateway writing its tunnel status to the hub again',
        timeoutMs: 60_000,
        intervalMs: 1000,
      });
      const replies = await probe.stop();
      const gap = longestGap(replies, stoppedAt / 1000 - 1);
      t.diagnostic(`hub apiserver down ${downFor.toFixed(1)} s: longest silence between cluster1 and cluster2 ${gap.toFixed(2)} s (${replies.length} replies)`);
      assert.ok(gap < 2, `traffic between the members kept flowing (longest silence ${gap.toFixed(2)} s)`);
      const leaderAfter = await hubLeader(hub);
      assert.equal(leaderAfter.metadata?.uid, leaderBefore.metadata?.uid, 'the hub leader that was cut off leads on');
      const transitionsAfter = (await hub.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: HUB_NAMESPACE })).items.map((l) => `${l.metadata?.name ?? ''}:${l.spec?.leaseTransitions ?? 0}`);
      assert.deepEqual(transitionsAfter, transitionsBefore, 'no hub Lease changed hands');
    } finally {
      await probe.stop().catch(() => undefined);
      await unexportService(kc.cluster1, 'late-svc');
      await kc.cluster1.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ name: 'during-hub-outage', namespace: 'default' }).catch(() => undefined);
    }
    await waitFor(async () => ([...(await hubRecords(hub, 'cluster1')).keys()].some((k) => k.includes('late-svc')) ? undefined : true), { what: 'late-svc to leave the hub', timeoutMs: 60_000, intervalMs: 500 });
  });

  test('cluster1\'s apiserver restarts: watches resume without re-exporting what the hub already holds, and no pod loses its address', async (t) => {
    const hubBefore = await hubRecords(hub, 'cluster1');
    assert.ok(hubBefore.size >= 2, `cluster1 has records in the hub (${[...hubBefore.keys()].join(', ')})`);
    const addresses = async () => new Map((await wiredPods(kc.cluster1)).map((p) => [p.metadata?.uid ?? '', globalIp(p)]));
    const addressesBefore = await addresses();
    const source = nginx.cluster2[0] ?? assert.fail('a cluster2 nginx pod');
    const target = nginx.cluster1[0] ?? assert.fail('a cluster1 nginx pod');
    const probe = probeReachability(netnsOf('cluster2', source), globalIp(target), 0.2);
    let gap: number;
    try {
      await waitFor(() => Promise.resolve(probe.replies().length >= 5 ? true : undefined), { what: 'replies before the restart', timeoutMs: 20_000 });
      const at = Date.now() / 1000;
      await control({ kind: 'apiserver', cluster: 'cluster1', verb: 'stop' });
      await control({ kind: 'apiserver', cluster: 'cluster1', verb: 'start' });
      // Watches resumed: a new export travels to cluster2, a new pod gets an address.
      await exportService(kc.cluster1, 'after-restart-svc');
      await waitFor(() => imported(kc.cluster2, 'after-restart-svc'), { what: 'cluster2 importing after-restart-svc', timeoutMs: 90_000, intervalMs: 1000 });
      await createPauseDeployment(kc.cluster1, 'after-restart', 1);
      const [fresh] = await waitForReadyPods(kc.cluster1, 'default', 'app=after-restart', 1, 60_000);
      assert.ok(globalIp(fresh ?? assert.fail('the new pod')), 'the new pod has a global address');
      gap = longestGap(await probe.stop(), at - 1);
    } finally {
      await probe.stop().catch(() => undefined);
      await unexportService(kc.cluster1, 'after-restart-svc');
      await kc.cluster1.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ name: 'after-restart', namespace: 'default' }).catch(() => undefined);
    }
    const hubAfter = await hubRecords(hub, 'cluster1');
    const rewritten = [...hubBefore].filter(([k, rv]) => hubAfter.get(k) !== rv).map(([k]) => k);
    t.diagnostic(`cluster1 apiserver restart: ${rewritten.length} of ${hubBefore.size} hub records rewritten; longest silence cluster2 → cluster1 ${gap.toFixed(2)} s`);
    assert.deepEqual(rewritten, [], 'nothing cluster1 had published was written again');
    const addressesAfter = await addresses();
    for (const [uid, ip] of addressesBefore) assert.equal(addressesAfter.get(uid), ip, `pod ${uid} kept ${ip}`);
  });

  for (const where of ['cluster1', 'cluster2', 'hub'] as const) {
    test(`SIGKILL of ${where}'s leader ${where === 'hub' ? 'hub cnf' : 'controller'} during a transfer between the members: traffic resumes by itself (outage reported)`, async (t) => {
      const from: Member = where === 'cluster2' ? 'cluster2' : 'cluster1';
      const marks = await componentLogs();
      const { outage, bitsPerSecond } = await crossClusterOutage(from, async () => {
        if (where === 'hub') {
          const leader = await hubLeader(hub);
          assert.equal(await killIn(await podNetns('hub', HUB_NAMESPACE, leader.metadata?.name ?? ''), 'dist/controller/hub/main.js'), 1);
        } else {
          const gateway = await leaderCnf(kc[where]);
          assert.equal(await killIn(netnsOf(where, gateway), 'dist/controller/main.js'), 1);
        }
      });
      t.diagnostic(`outage after SIGKILL of ${where}'s leader: ${outage.toFixed(2)} s (transfer ${(bitsPerSecond / 1e6).toFixed(0)} Mbit/s)`);
      // A slow recovery says what the components did meanwhile, so the cause can be found from this run alone.
      if (outage >= CRASH_OUTAGE_TARGET_S) for (const { file, line } of (await loggedSince(marks)).slice(-80)) t.diagnostic(`${file.slice(file.indexOf('/run/') + 5)}: ${line}`);
      assert.ok(outage < CRASH_OUTAGE_TARGET_S, `traffic resumed within ${CRASH_OUTAGE_TARGET_S} s (took ${outage.toFixed(2)} s)`);
      assert.ok(bitsPerSecond > 0, 'the transfer finished');
    });
  }

  test('wireguard-go of cluster1\'s gateway dies: the controller starts it again with every tunnel, one process per cnf (outage reported)', async (t) => {
    const gateway = await leaderCnf(kc.cluster1);
    const cnfNetns = netnsOf('cluster1', gateway);
    const { outage } = await crossClusterOutage('cluster1', async () => {
      assert.equal(await killIn(cnfNetns, 'wireguard-go'), 1);
    });
    t.diagnostic(`outage after wireguard-go died on cluster1's gateway: ${outage.toFixed(2)} s`);
    assert.ok(outage < CRASH_OUTAGE_TARGET_S, `traffic resumed within ${CRASH_OUTAGE_TARGET_S} s (took ${outage.toFixed(2)} s)`);
    assert.equal((await rssIn(cnfNetns, 'wireguard-go')).length, 1, 'exactly one wireguard-go in the gateway\'s cnf');
    // The other node's tunnel and the hub's are both back up.
    await waitFor(
      async () => {
        const { stdout } = await runIn(cnfNetns, 'curl', ['-sf', '--max-time', '5', 'http://127.0.0.1:9464/metrics']);
        const up = stdout.split('\n').filter((l) => l.startsWith('fleetboard_tunnel_up{'));
        return up.length === 2 && up.every((l) => l.endsWith(' 1')) ? true : undefined;
      },
      { what: 'both tunnels of the gateway up again (node and hub)', timeoutMs: 60_000, intervalMs: 1000 },
    );
  });

  test('while pods come and go in cluster2, its NRI runtimes restart and every plugin and controller is SIGKILLed: every pod ends wired exactly once, no address or veth leaks', async () => {
    const nodeCidrs = await waitForNodeCidrs(kc.cluster2, 2);
    const [node1, node2] = [...nodeCidrs.keys()];
    const restarts = () => cnfRestarts(kc.cluster2);
    const killEvery = async (entry: string) => {
      for (const p of await cnfPods(kc.cluster2)) assert.equal(await killIn(netnsOf('cluster2', p), entry), 1, `${entry} on ${p.spec?.nodeName ?? ''}`);
    };
    const restartsBefore = await restarts();
    await createPauseDeployment(kc.cluster2, 'nri-churn', 10);
    try {
      const steps: [number, () => Promise<void>][] = [
        [24, () => control({ kind: 'nri-restart', cluster: 'cluster2', node: node1 ?? '' })],
        [6, () => killEvery('dist/plugin/main.js')],
        [18, () => control({ kind: 'nri-restart', cluster: 'cluster2', node: node2 ?? '' })],
        [12, () => killEvery('dist/controller/main.js')],
      ];
      for (const [replicas, disrupt] of steps) {
        await scaleDeployment(kc.cluster2, 'nri-churn', replicas);
        await waitFor(async () => ((await wiredPods(kc.cluster2)).length > 0 ? true : undefined), { what: 'pods running', timeoutMs: 30_000 });
        await disrupt();
      }
      await waitForReadyPods(kc.cluster2, 'default', 'app=nri-churn', 12, 180_000);
      const expected = new Map([...restartsBefore].map(([k, n]) => [k, n + 1]));
      await waitFor(async () => (JSON.stringify([...(await restarts())].sort()) === JSON.stringify([...expected].sort()) ? true : undefined), {
        what: 'each plugin and controller restarted once, and nothing else (the plugin reconnects to a new NRI runtime by itself)',
        timeoutMs: 60_000,
        intervalMs: 1000,
      });
      const wired = await settleWiring('cluster2', kc.cluster2, nodeCidrs, 'every cluster2 pod wired once after the restarts');
      assert.ok(wired >= 14, `nginx + churn pods wired (${wired})`);
    } finally {
      await kc.cluster2.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ name: 'nri-churn', namespace: 'default' }).catch(() => undefined);
    }
  });

  test('a hand-written EndpointSlice of 1000 endpoints (the API\'s maximum) for an exported Service: the endpoints that are pods are published, the rest are counted in the export\'s Ready condition, and cluster2 imports exactly the pods', async () => {
    const core = kc.cluster1.makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'huge-svc' }, spec: { ports: [{ name: 'http', port: 80 }] } } });
    const pods = nginx.cluster1.map((p) => ({ addresses: [p.status?.podIP ?? ''], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'default', name: p.metadata?.name ?? '' } }));
    const ghosts = Array.from({ length: 1000 - pods.length }, (_, i) => ({ addresses: [`10.244.${100 + Math.floor(i / 250)}.${1 + (i % 250)}`], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'default', name: `ghost-${i}` } }));
    await kc.cluster1.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace: 'default',
      body: { metadata: { name: 'huge-svc-manual', labels: { 'kubernetes.io/service-name': 'huge-svc' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], endpoints: [...pods, ...ghosts] },
    });
    try {
      await kc.cluster1.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'huge-svc' } } });
      const ready = await waitFor(
        async () => {
          const exp = (await kc.cluster1.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...exportApi, name: 'huge-svc' })) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
          return exp.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'Pending');
        },
        { what: 'huge-svc\'s Ready condition', timeoutMs: 60_000, intervalMs: 1000 },
      );
      assert.equal(ready.message, `${ghosts.length} endpoint(s) have no global address yet; ${pods.length} published`);
      const got = await waitFor(() => imported(kc.cluster2, 'huge-svc'), { what: 'cluster2 importing huge-svc', timeoutMs: 60_000, intervalMs: 1000 });
      assert.deepEqual(got.endpoints, nginx.cluster1.map(globalIp).sort(), 'exactly the pods\' global addresses');
    } finally {
      await unexportService(kc.cluster1, 'huge-svc');
      await kc.cluster1.makeApiClient(DiscoveryV1Api).deleteNamespacedEndpointSlice({ name: 'huge-svc-manual', namespace: 'default' }).catch(() => undefined);
    }
  });

  test(`soak: ${SOAK_SECONDS} s of pod churn at ${SOAK_RATE} pods/s across both members with an export scaling up and down: no duplicate address, no leak, no restart, memory reported`, async (t) => {
    const nodeCidrs = Object.fromEntries(await Promise.all(MEMBERS.map(async (c) => [c, await waitForNodeCidrs(kc[c], 2)] as const))) as Record<Member, Map<string, string>>;
    const restarts = async () => (await Promise.all(MEMBERS.map(async (c) => [...(await cnfRestarts(kc[c]))]))).flat().sort();
    const memory = async () => {
      const sizes: Record<string, number> = {};
      for (const c of MEMBERS) {
        for (const p of await cnfPods(kc[c])) {
          for (const [entry, name] of [['dist/controller/main.js', 'controller'], ['dist/plugin/main.js', 'plugin']] as const) {
            sizes[`${c}/${p.spec?.nodeName ?? ''}/${name}`] = (await rssIn(netnsOf(c, p), entry)).reduce((a, b) => a + b, 0);
          }
        }
      }
      return sizes;
    };
    const restartsBefore = await restarts();
    const rssBefore = await memory();
    for (const c of MEMBERS) {
      await createPauseDeployment(kc[c], 'soak-web', 2);
      await kc[c].makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'default', body: { metadata: { name: 'soak-web' }, spec: { selector: { app: 'soak-web' }, ports: [{ name: 'http', port: 80 }] } } });
      await kc[c].makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'soak-web' } } });
    }
    const churns = MEMBERS.map((c) => startChurn(kc[c], 'soak', SOAK_RATE / MEMBERS.length, SOAK_POPULATION));
    let samples = 0;
    let duplicates = 0;
    let scaled = 0;
    try {
      const ends = Date.now() + SOAK_SECONDS * 1000;
      while (Date.now() < ends) {
        // Every few seconds: no two live pods of a cluster share an address, and the export changes size.
        for (const c of MEMBERS) {
          const ips = (await wiredPods(kc[c])).map(globalIp).filter((ip) => ip !== '');
          duplicates += ips.length - new Set(ips).size;
          await scaleDeployment(kc[c], 'soak-web', 1 + ((scaled + (c === 'cluster1' ? 0 : 2)) % 5));
        }
        samples += 1;
        scaled += 1;
        await delay(Math.min(5000, Math.max(0, ends - Date.now())));
      }
    } finally {
      const counts = await Promise.all(churns.map((c) => c.stop()));
      t.diagnostic(`churn: ${counts.map((x, i) => `${MEMBERS[i] ?? ''} created ${x.created} (${x.createdPerSecond.toFixed(1)}/s), deleted ${x.deleted}, failed calls ${x.failed}`).join('; ')}`);
      for (const c of MEMBERS) await kc[c].makeApiClient(CoreV1Api).deleteCollectionNamespacedPod({ namespace: 'default', labelSelector: 'app=soak', gracePeriodSeconds: 0 });
    }
    // Settled: each cluster's import holds exactly the soak-web pods of both clusters.
    for (const c of MEMBERS) await scaleDeployment(kc[c], 'soak-web', 3);
    const web = (await Promise.all(MEMBERS.map((c) => waitForReadyPods(kc[c], 'default', 'app=soak-web', 3, 180_000)))).flat().map(globalIp).sort();
    for (const c of MEMBERS) {
      await waitFor(async () => (JSON.stringify((await imported(kc[c], 'soak-web'))?.endpoints) === JSON.stringify(web) ? true : undefined), { what: `${c} importing exactly the 6 soak-web endpoints`, timeoutMs: 120_000, intervalMs: 1000 });
    }
    for (const c of MEMBERS) {
      await waitFor(async () => ((await kc[c].makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: 'app=soak' })).items.length === 0 ? true : undefined), { what: `${c}'s churn pods gone`, timeoutMs: 180_000, intervalMs: 1000 });
      await settleWiring(c, kc[c], nodeCidrs[c], `${c}: every pod wired once, no address or veth left over`);
    }
    const rssAfter = await memory();
    t.diagnostic(`duplicate addresses seen in ${samples} samples: ${duplicates}; RSS kB start → end: ${Object.keys(rssBefore).map((k) => `${k} ${rssBefore[k] ?? 0} → ${rssAfter[k] ?? 0}`).join(', ')}`);
    assert.equal(duplicates, 0, 'no two live pods ever shared an address');
    assert.deepEqual(await restarts(), restartsBefore, 'no FleetBoard container restarted');
    for (const [k, before] of Object.entries(rssBefore)) {
      const grew = (rssAfter[k] ?? 0) - before;
      assert.ok(grew < SOAK_RSS_GROWTH_KB, `${k} RSS grew ${grew} kB (limit ${SOAK_RSS_GROWTH_KB} kB)`);
    }
    for (const c of MEMBERS) {
      await unexportService(kc[c], 'soak-web');
      await kc[c].makeApiClient(AppsV1Api).deleteNamespacedDeployment({ name: 'soak-web', namespace: 'default' });
    }
  });

  // Last: it takes cluster1 out of the clusterset for good.
  test('fleetctl remove cluster1: the hub stops routing it, cluster2 drops its exports, its hub token stops working, cluster1 says so and withdraws its imports, nothing of it stays in the hub, and its CIDR goes to the next cluster that joins', async (t) => {
    const hubFile = testbedPaths().kubeconfig('hub');
    const unknown = await fleetctl(['--kubeconfig', hubFile, 'remove', 'cluster7']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no member cluster cluster7 in this hub/);
    const cidr = (await hubPeer(hub, memberNamespace('cluster1'), 'cluster1'))?.spec.clusterCIDR[0] ?? assert.fail('cluster1\'s CIDR');
    const asCluster1 = (await memberHubClient(kc.cluster1, hub)).makeApiClient(CustomObjectsApi);
    const peersOf1 = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace: memberNamespace('cluster1') };
    await asCluster1.listNamespacedCustomObject(peersOf1);
    assert.ok(await imported(kc.cluster2, 'steady-svc'), 'cluster2 imports what cluster1 exports');
    const source = nginx.cluster2[0] ?? assert.fail('a cluster2 nginx pod');
    const target = nginx.cluster1[0] ?? assert.fail('a cluster1 nginx pod');
    const reaches = () => runIn(netnsOf('cluster2', source), 'ping', ['-c', '1', '-W', '1', globalIp(target)]).then(() => true, () => false);
    assert.ok(await reaches(), 'cluster2 reaches cluster1 before the removal');
    // What FleetBoard imported in cluster1: ServiceImports and EndpointSlices.
    const importedIn1 = async () => {
      const imports = readItems(ServiceImportKind, await kc.cluster1.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports' })).filter(importMadeByFleetBoard);
      const slices = (await kc.cluster1.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces({ labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` })).items;
      return imports.length + slices.length;
    };
    assert.ok((await importedIn1()) > 0, 'cluster1 imports services before the removal');

    const removed = await fleetctl(['--kubeconfig', hubFile, '-o', 'json', 'remove', 'cluster1']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout), { clusterID: 'cluster1', namespace: memberNamespace('cluster1'), clusterCIDR: cidr, gone: true });

    await waitFor(async () => ((await imported(kc.cluster2, 'steady-svc')) === undefined ? true : undefined), { what: 'cluster2 dropping steady-svc', timeoutMs: 60_000, intervalMs: 1000 });
    await waitFor(async () => ((await reaches()) ? undefined : true), { what: 'the hub to stop routing cluster1', timeoutMs: 60_000, intervalMs: 1000 });
    // At once nothing is allowed any more (403); once the apiserver's token cache forgets it, the token is refused outright.
    await waitFor(async () => ((await asCluster1.listNamespacedCustomObject(peersOf1).then(() => 200, (err: unknown) => httpCode(err))) === 401 ? true : undefined), {
      what: 'cluster1\'s hub token to be refused (401)',
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    // cluster1 finds out by itself: its unexpired token is refused. It says so at once, and drops the imports
    // nothing would update again once its tunnel to the hub is down too (here at once: its gateway saw its own
    // Peer leave the hub and dropped the tunnel; else after WireGuard's 180 s).
    const warning = await waitFor(async () => (await kc.cluster1.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: AGENT_NAMESPACE, fieldSelector: 'reason=FleetboardRemovedFromHub' })).items[0], {
      what: 'cluster1 to report that the hub removed it',
      timeoutMs: 90_000,
      intervalMs: 1000,
    });
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message ?? '', /cluster "cluster1" .*removed from the hub \(fleetctl remove\).*install it with a new bootstrap token/);
    const revokedAt = Date.now();
    await waitFor(async () => ((await importedIn1()) === 0 ? true : undefined), { what: 'cluster1 to withdraw its imports', timeoutMs: 300_000, intervalMs: 1000 });
    t.diagnostic(`cluster1 withdrew its imports ${((Date.now() - revokedAt) / 1000).toFixed(0)} s after reporting its removal`);
    await waitFor(
      async () => (await hub.makeApiClient(RbacAuthorizationV1Api).readClusterRoleBinding({ name: readerBindingName(memberNamespace('cluster1')) }).then(() => undefined, (err: unknown) => (isNotFound(err) ? true : undefined))),
      { what: 'cluster1\'s ClusterRoleBinding gone', timeoutMs: 60_000, intervalMs: 1000 },
    );
    // The CIDR is free again: the next cluster to join gets it.
    const core = hub.makeApiClient(CoreV1Api);
    const scratch = 'fleetboard-rejoin-test';
    await core.createNamespace({ body: { metadata: { name: scratch } } });
    try {
      const server = hub.getCurrentCluster()?.server ?? '';
      const membership = await new HubJoiner(new CredentialStore(core, scratch), { hubUrl: server, caPem: caOf(hub), bootstrapToken, clusterID: 'cluster3' }, silent).membership(publicKeyOf(generatePrivateKey()), AbortSignal.timeout(30_000));
      assert.equal(membership.clusterCidr, cidr, 'cluster3 got the CIDR cluster1 left');
    } finally {
      await core.deleteNamespace({ name: scratch }).catch(() => undefined);
    }
  });
});
