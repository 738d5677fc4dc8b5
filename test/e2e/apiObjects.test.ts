import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { AGENT_NAMESPACE, CROSSDNS_SELECTOR } from '../../hack/testbed/fleetboardAgent.js';
import { HUB_CNF_SELECTOR, HUB_NAMESPACE } from '../../hack/testbed/fleetboardHub.js';
import { CNF_SELECTOR } from '../../controller/cli/memberInfo.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, memberNamespace, PEER_PLURAL } from '../../controller/clusterset/peer.js';
import { JOIN_REQUEST_PLURAL } from '../../controller/clusterset/joinRequest.js';
import { MCS_GROUP, MCS_VERSION } from '../../controller/mcs/api.js';
import { EndpointSliceKind } from '../../controller/objects/discovery.js';
import { JoinRequestKind, PeerKind } from '../../controller/objects/fleetboard.js';
import { ServiceImportKind } from '../../controller/objects/mcs.js';
import { createNginxApp, createPauseDeployment, scaleDeployment, waitForReadyPods } from '../harness/cluster.js';
import { installHub, joinMember } from '../harness/clusterset.js';
import { componentLogs, FAILED_PASS, leaderCnf, loggedSince, netnsOf, restartCounts } from '../harness/fleetboard.js';
import { readAs, readIfFound, readItems } from '../harness/objects.js';
import { probeService } from '../harness/serviceProbe.js';
import { waitFor } from '../harness/wait.js';

/**
 * What the API really sends, end to end, at the charts' default timings:
 * Services with no endpoints (the API then sends a slice without an
 * endpoint list) and objects no component can use, while a served service
 * must stay reachable from the other member.
 */
const MEMBERS = ['cluster1', 'cluster2'] as const;
const NAME = 'nginx-svc.default.svc.clusterset.local';
const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default' };

const exportService = (kc: KubeConfig, name: string) => kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name } } });
const createService = (kc: KubeConfig, name: string, app: string) => kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'default', body: { metadata: { name }, spec: { selector: { app }, ports: [{ name: 'http', port: 80 }] } } });

/** The ServiceImport of `name` in a member once it has a ClusterSetIP; undefined before. */
async function importWithVip(kc: KubeConfig, name: string) {
  const i = readIfFound(ServiceImportKind, await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...importApi, name }).catch(() => undefined));
  return i?.spec.ips[0] ? i : undefined;
}

/** The endpoints of the EndpointSlices `selector` picks in `default` (a Service's own, or those imported for it), and how many are ready. */
async function endpoints(kc: KubeConfig, selector: string): Promise<{ all: number; ready: number }> {
  const slices = readItems(EndpointSliceKind, await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: selector }));
  const all = slices.flatMap((s) => s.endpoints);
  return { all: all.length, ready: all.filter((e) => e.conditions.ready !== false).length };
}
const readyEndpoints = async (kc: KubeConfig, selector: string) => (await endpoints(kc, selector)).ready;

/** Every FleetBoard container's restart count, in every cluster. */
async function allRestarts(kc: Record<string, KubeConfig>, hub: KubeConfig): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const add = (cluster: string, m: Map<string, number>) => {
    for (const [k, v] of m) counts.set(`${cluster}/${k}`, v);
  };
  for (const c of MEMBERS) {
    add(c, await restartCounts(kc[c] as KubeConfig, AGENT_NAMESPACE, CNF_SELECTOR));
    add(c, await restartCounts(kc[c] as KubeConfig, AGENT_NAMESPACE, CROSSDNS_SELECTOR));
  }
  add('hub', await restartCounts(hub, HUB_NAMESPACE, HUB_CNF_SELECTOR));
  return counts;
}

describe('objects as the API really sends them (hub + 2 members, the charts\' default timings)', () => {
  let hub: KubeConfig;
  const kc: Record<string, KubeConfig> = {};
  let client: V1Pod;
  let vip = '';

  before(async () => {
    await up({ clusters: 2, nodes: 2 });
    hub = kubeConfigFor('hub');
    const token = await installHub(hub, { nodes: 2 });
    for (const c of MEMBERS) kc[c] = kubeConfigFor(c);
    await Promise.all(MEMBERS.map((c) => joinMember(kc[c] as KubeConfig, hub, c, token, 2)));
    for (const c of MEMBERS) await createNginxApp(kc[c] as KubeConfig, 'default', 2);
    const clients = await waitForReadyPods(kc.cluster2 as KubeConfig, 'default', 'app=nginx-app', 2);
    await waitForReadyPods(kc.cluster1 as KubeConfig, 'default', 'app=nginx-app', 2);
    const leaderNode = (await leaderCnf(kc.cluster2 as KubeConfig)).spec?.nodeName;
    client = clients.find((p) => p.spec?.nodeName !== leaderNode) ?? assert.fail('an nginx pod of cluster2 off its leader\'s node');
    await exportService(kc.cluster1 as KubeConfig, 'nginx-svc');
    vip = (await waitFor(() => importWithVip(kc.cluster2 as KubeConfig, 'nginx-svc'), { what: 'cluster2 importing nginx-svc', timeoutMs: 60_000, intervalMs: 500 })).spec.ips[0] ?? '';
    // Served before anything else happens: the probe must find it reachable from its first round.
    await probeService(netnsOf('cluster2', client), NAME, vip).stop();
    await waitFor(
      async () => {
        const rounds = await probeService(netnsOf('cluster2', client), NAME, vip).stop();
        return rounds.every((r) => r.failures.length === 0) ? true : undefined;
      },
      { what: `${NAME} to be served in cluster2 by name and ClusterSetIP ${vip}`, timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  after(async () => {
    await down();
  });

  test('cluster1 exports a Service whose pods never become ready and scales an exported Deployment to 0 and back: cluster2 imports both at once, without endpoints and then with them; nginx-svc stays reachable by name and ClusterSetIP throughout, crossdns never restarts and no component logs a failed pass', async (t) => {
    const [c1, c2] = [kc.cluster1 as KubeConfig, kc.cluster2 as KubeConfig];
    const marks = await componentLogs();
    const restarts = await allRestarts(kc, hub);
    const crossdnsPods = async () => (await c2.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: CROSSDNS_SELECTOR })).items.map((p) => p.metadata?.uid).sort();
    const crossdnsBefore = await crossdnsPods();
    const figures: Record<string, number> = {};
    const probe = probeService(netnsOf('cluster2', client), NAME, vip);
    try {
      // Pods that never become ready: the Service's slice has no ready endpoint, ever.
      await createPauseDeployment(c1, 'unready-app', 2, { neverReady: true });
      await createService(c1, 'unready-svc', 'unready-app');
      let started = Date.now();
      await exportService(c1, 'unready-svc');
      await waitFor(() => importWithVip(c2, 'unready-svc'), { what: 'cluster2 importing unready-svc', timeoutMs: 30_000, intervalMs: 100 });
      figures.unreadyImportedSeconds = (Date.now() - started) / 1000;
      // Once the pods run, their endpoints are imported as they are: there, and not ready.
      const unready = await waitFor(async () => {
        const got = await endpoints(c2, 'multicluster.kubernetes.io/service-name=unready-svc');
        return got.all === 2 ? got : undefined;
      }, { what: 'cluster2 importing unready-svc\'s 2 endpoints', timeoutMs: 90_000, intervalMs: 200 });
      assert.equal(unready.ready, 0, 'no endpoint of unready-svc is imported as ready');

      // A Deployment exported with 2 pods, scaled to 0 and back to 2.
      await createPauseDeployment(c1, 'scaled-app', 2);
      await createService(c1, 'scaled-svc', 'scaled-app');
      started = Date.now();
      await exportService(c1, 'scaled-svc');
      await waitFor(async () => ((await importWithVip(c2, 'scaled-svc')) && (await readyEndpoints(c2, 'multicluster.kubernetes.io/service-name=scaled-svc')) === 2 ? true : undefined), { what: 'cluster2 importing scaled-svc with 2 endpoints', timeoutMs: 60_000, intervalMs: 100 });
      figures.scaledImportedSeconds = (Date.now() - started) / 1000;
      for (const replicas of [0, 2]) {
        await scaleDeployment(c1, 'scaled-app', replicas);
        // From when cluster1's own slice says so: how long the pods take to start or stop is not FleetBoard's.
        await waitFor(async () => ((await readyEndpoints(c1, 'kubernetes.io/service-name=scaled-svc')) === replicas ? true : undefined), { what: `scaled-svc's own slice with ${replicas} ready endpoints`, timeoutMs: 90_000, intervalMs: 100 });
        started = Date.now();
        await waitFor(async () => ((await readyEndpoints(c2, 'multicluster.kubernetes.io/service-name=scaled-svc')) === replicas ? true : undefined), { what: `cluster2's import of scaled-svc with ${replicas} endpoints`, timeoutMs: 30_000, intervalMs: 100 });
        figures[`scaledTo${replicas}FollowedSeconds`] = (Date.now() - started) / 1000;
        assert.ok(await importWithVip(c2, 'scaled-svc'), `the import stays, with its ClusterSetIP, at ${replicas} replicas`);
      }
      // The changes are quick: the probe goes on a while after the last, while everything settles.
      const after = probe.rounds();
      await waitFor(() => Promise.resolve(probe.rounds() >= after + 20 ? true : undefined), { what: 'another 20 rounds of the probe', timeoutMs: 120_000, intervalMs: 200 });
    } finally {
      const rounds = await probe.stop();
      t.diagnostic(`nginx-svc from cluster2: ${rounds.length} rounds of dig + curl by name + curl by ClusterSetIP ${vip}; ${JSON.stringify(figures)}`);
      for (const name of ['unready-svc', 'scaled-svc']) {
        await c1.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...exportApi, name }).catch(() => undefined);
        await c1.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'default', name }).catch(() => undefined);
      }
      for (const name of ['unready-app', 'scaled-app']) await c1.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: 'default', name }).catch(() => undefined);
      assert.deepEqual(rounds.filter((r) => r.failures.length > 0), [], 'every round reached nginx-svc by name and ClusterSetIP');
    }
    for (const [what, seconds] of Object.entries(figures)) assert.ok(seconds <= 3, `${what}: ${seconds} s, within a second or two`);
    assert.deepEqual(await crossdnsPods(), crossdnsBefore, 'the same crossdns pods');
    assert.deepEqual(await allRestarts(kc, hub), restarts, 'no FleetBoard container restarted');
    assert.deepEqual((await loggedSince(marks)).filter((l) => FAILED_PASS.test(l.line)), [], 'no component logged a failed pass');
  });

  test('objects FleetBoard cannot use (a ServiceImport without spec in a member, a Peer and a JoinRequest without spec in the hub), present when crossdns, the cnf controllers and the hub start and arriving later: nothing exits or restarts, everything keeps serving, and each object is reported', async () => {
    const c2 = kc.cluster2 as KubeConfig;
    const create = async (name: string) => {
      await c2.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...importApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceImport', metadata: { name } } });
      const namespace = memberNamespace('cluster2');
      await hub.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace, body: { apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, kind: 'Peer', metadata: { name } } });
      await hub.makeApiClient(CustomObjectsApi).createClusterCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: JOIN_REQUEST_PLURAL, body: { apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, kind: 'JoinRequest', metadata: { name } } });
    };
    /** Each object is reported where its owner looks: the Peer's Routed condition, the JoinRequest's status, crossdns's log. */
    const reported = async (name: string) => {
      const peer = readAs(PeerKind, await hub.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace: memberNamespace('cluster2'), name }));
      const routed = peer.status.conditions.find((c) => c.type === 'Routed');
      const request = readAs(JoinRequestKind, await hub.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: JOIN_REQUEST_PLURAL, name }));
      const crossdnsSaid = (await loggedSince(new Map())).some((l) => l.file.includes('/crossdns/') && l.line.includes(`ServiceImport default/${name} has no type`));
      return routed?.status === 'False' && routed.message?.includes('has no spec') && request.status.phase === 'Refused' && request.status.message === 'the request has no spec' && crossdnsSaid ? true : undefined;
    };
    const served = async () => {
      const rounds = await probeService(netnsOf('cluster2', client), NAME, vip).stop();
      return rounds.every((r) => r.failures.length === 0) ? true : undefined;
    };
    try {
      // Present at start: cluster2's cnf pods and crossdns, and the hub's cnf pods, start again with them there.
      await create('broken-at-start');
      for (const [cluster, namespace, selector] of [[c2, AGENT_NAMESPACE, CNF_SELECTOR], [c2, AGENT_NAMESPACE, CROSSDNS_SELECTOR], [hub, HUB_NAMESPACE, HUB_CNF_SELECTOR]] as const) {
        await cluster.makeApiClient(CoreV1Api).deleteCollectionNamespacedPod({ namespace, labelSelector: selector });
      }
      const beforeRestart = await componentLogs();
      await waitForReadyPods(c2, AGENT_NAMESPACE, CNF_SELECTOR, 2, 120_000);
      await waitForReadyPods(c2, AGENT_NAMESPACE, CROSSDNS_SELECTOR, 2, 120_000);
      await waitForReadyPods(hub, HUB_NAMESPACE, HUB_CNF_SELECTOR, 2, 120_000);
      // The new containers' logs whole; of the others (and the stopped ones' last words), what comes from now on.
      const marks = new Map([...(await componentLogs())].filter(([file]) => beforeRestart.has(file)));
      await waitFor(served, { what: `${NAME} served again in cluster2 after the restarts`, timeoutMs: 120_000, intervalMs: 1000 });
      await waitFor(() => reported('broken-at-start'), { what: 'the objects present at start reported', timeoutMs: 60_000, intervalMs: 1000 });
      const restarts = await allRestarts(kc, hub);
      assert.deepEqual([...restarts].filter(([, n]) => n > 0), [], 'the restarted pods started once each');

      // Arriving later, with a new export that both members must still import.
      await create('broken-later');
      await createService(kc.cluster1 as KubeConfig, 'nginx-later', 'nginx-app');
      await exportService(kc.cluster1 as KubeConfig, 'nginx-later');
      await waitFor(() => importWithVip(c2, 'nginx-later'), { what: 'cluster2 importing an export made after the broken objects', timeoutMs: 30_000, intervalMs: 500 });
      await waitFor(() => reported('broken-later'), { what: 'the objects arriving later reported', timeoutMs: 60_000, intervalMs: 1000 });
      assert.equal(await served(), true, `${NAME} still served by name and ClusterSetIP`);
      assert.deepEqual(await allRestarts(kc, hub), restarts, 'no FleetBoard container restarted');
      assert.deepEqual((await loggedSince(marks)).filter((l) => FAILED_PASS.test(l.line)), [], 'no component logged a failed pass');
    } finally {
      for (const name of ['broken-at-start', 'broken-later']) {
        await c2.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...importApi, name }).catch(() => undefined);
        await hub.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace: memberNamespace('cluster2'), name }).catch(() => undefined);
        await hub.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: JOIN_REQUEST_PLURAL, name }).catch(() => undefined);
      }
      await kc.cluster1?.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...exportApi, name: 'nginx-later' }).catch(() => undefined);
      await kc.cluster1?.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'default', name: 'nginx-later' }).catch(() => undefined);
    }
  });
});
