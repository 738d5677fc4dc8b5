import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Address4 } from 'ip-address';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { AGENT_NAMESPACE } from '../../hack/testbed/fleetboardAgent.js';
import { podNetnsName } from '../../hack/testbed/plan.js';
import { decodePodNetwork } from '../../controller/ipam/annotations.js';
import { cnfPods, fleetInterface, installAgent, settleWiring, waitForNodeCidrs, wiredPods } from '../harness/fleetboard.js';
import { createPauseDeployment, scaleDeployment, waitForReadyPods } from '../harness/cluster.js';
import { captureIn, run, runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';

const CLUSTER = 'cluster1';
const CLUSTER_CIDR = '10.113.0.0/16';
const GLOBAL_CIDR = '10.112.0.0/12';
const inCidr = (ip: string, cidr: string) => new Address4(ip).isInSubnet(new Address4(cidr));

/** Pings from a pod on node1 to one on node2 over eth-fleet until it answers; returns the pair used. */
async function pingAcrossNodes(kc: KubeConfig, selector: string): Promise<{ source: string; target: string }> {
  const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: selector })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const a = pods.find((p) => p.spec?.nodeName === 'cluster1-node1');
  const b = pods.find((p) => p.spec?.nodeName === 'cluster1-node2');
  assert.ok(a && b, `a ${selector} pod on each node`);
  const target = decodePodNetwork(b.metadata?.annotations)?.ipAddress ?? '';
  const source = podNetnsName(CLUSTER, a.metadata?.uid ?? '');
  await waitFor(() => runIn(source, 'ping', ['-c', '1', '-W', '1', '-I', 'eth-fleet', target]).then(() => true, () => undefined), {
    what: `${a.metadata?.name ?? ''} on node1 reaching ${target} on node2`,
    timeoutMs: 30_000,
  });
  return { source, target };
}

describe('every pod gets its second interface (cluster1, 2 nodes)', () => {
  let kc: KubeConfig;
  let nodeCidrs: Map<string, string>;

  before(async () => {
    await up({ clusters: 1, nodes: 2 });
    kc = kubeConfigFor(CLUSTER);
    await installAgent(kc, { clusterCidr: CLUSTER_CIDR, leaseDuration: 4, renewDeadline: 3, retryPeriod: 1 }, 2);
    nodeCidrs = await waitForNodeCidrs(kc, 2);
  });

  after(async () => {
    await down();
  });

  test('the cnf pods elect one leader, which records a distinct node CIDR for each node', async () => {
    const leaders = await waitFor(
      async () => {
        const l = (await cnfPods(kc)).filter((p) => p.metadata?.labels?.['fleetboard.io/leader'] === 'true');
        return l.length === 1 ? l : undefined;
      },
      { what: 'exactly one cnf pod labelled leader', timeoutMs: 30_000 },
    );
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'fleetboard-cnf-leader', namespace: AGENT_NAMESPACE });
    assert.equal(lease.spec?.holderIdentity, leaders[0]?.metadata?.name);
    const cidrs = [...nodeCidrs.values()];
    assert.equal(new Set(cidrs).size, 2, `distinct node CIDRs: ${cidrs.join(', ')}`);
    for (const c of cidrs) assert.ok(inCidr(c.split('/')[0] ?? '', CLUSTER_CIDR) && c.endsWith('/24'), `${c} is a /24 of ${CLUSTER_CIDR}`);
  });

  test('Deployment pods get eth-fleet with the annotated address, MAC, route and MTU, and reach each other through it', async () => {
    await createPauseDeployment(kc, 'web', 6);
    const pods = await waitForReadyPods(kc, 'default', 'app=web', 6);
    assert.ok(new Set(pods.map((p) => p.spec?.nodeName)).size === 2, 'replicas run on both nodes');
    for (const p of pods) {
      const net = decodePodNetwork(p.metadata?.annotations);
      assert.ok(net);
      const nic = await fleetInterface(CLUSTER, p);
      assert.ok(nic, `${p.metadata?.name ?? ''} has eth-fleet`);
      assert.equal(nic.ip, net.ipAddress);
      assert.equal(nic.mac, net.macAddress);
      assert.equal(nic.prefix, 24);
      const netns = podNetnsName(CLUSTER, p.metadata?.uid ?? '');
      const eth0 = JSON.parse((await runIn(netns, 'ip', ['-j', 'link', 'show', 'dev', 'eth0'])).stdout) as { mtu: number }[];
      assert.equal(nic.mtu, (eth0[0]?.mtu ?? 0) - 80, 'MTU is the underlay MTU minus 80');
      assert.deepEqual(net.routes, [{ dst: GLOBAL_CIDR, gw: net.gateway }]);
      const route = await runIn(netns, 'ip', ['route', 'get', '10.120.0.1']);
      assert.match(route.stdout, new RegExp(`via ${net.gateway.replace(/\./g, '\\.')} dev eth-fleet`));
    }
    // Two pods on one node talk over eth-fleet through the cnf netns.
    const node = pods[0]?.spec?.nodeName;
    const [a, b] = pods.filter((p) => p.spec?.nodeName === node);
    assert.ok(a && b, 'two pods on one node');
    const target = decodePodNetwork(b.metadata?.annotations)?.ipAddress ?? '';
    await runIn(podNetnsName(CLUSTER, a.metadata?.uid ?? ''), 'ping', ['-c', '1', '-W', '2', '-I', 'eth-fleet', target]);
    // FleetBoard's own pods and host-network pods get no interface.
    for (const cnf of await cnfPods(kc)) assert.equal(await fleetInterface(CLUSTER, cnf), undefined, 'cnf pod has no eth-fleet');
  });

  test('pods on different nodes reach each other by their global addresses through the WireGuard tunnel between the cnf pods', async () => {
    const { source, target } = await pingAcrossNodes(kc, 'app=web');
    // On the underlay between the cnf pods, the pods' traffic is WireGuard (UDP 51820), never plain.
    const cnfA = (await cnfPods(kc)).find((p) => p.spec?.nodeName === 'cluster1-node1');
    const capture = await captureIn(podNetnsName(CLUSTER, cnfA?.metadata?.uid ?? ''), 'eth0');
    await runIn(source, 'ping', ['-c', '5', '-i', '0.2', '-I', 'eth-fleet', target]);
    const seen = await capture.stop();
    assert.ok(seen.some((l) => /\.51820[ :>]/.test(l) && /UDP/.test(l)), `WireGuard packets on the underlay:\n${seen.slice(0, 5).join('\n')}`);
    assert.ok(!seen.some((l) => l.includes(target)), `no packet names the pod address in clear:\n${seen.filter((l) => l.includes(target)).slice(0, 5).join('\n')}`);
  });

  test('200 pods created at once hold 200 distinct addresses from their nodes; deleting them frees every veth', async () => {
    const started = Date.now();
    await createPauseDeployment(kc, 'bulk', 200);
    await waitForReadyPods(kc, 'default', 'app=bulk', 200, 600_000);
    const wired = await settleWiring(CLUSTER, kc, nodeCidrs, '200 bulk pods wired once each');
    console.log(`# 200 pods ready and wired in ${((Date.now() - started) / 1000).toFixed(1)} s (${wired} wired pods in the cluster)`);
    await scaleDeployment(kc, 'bulk', 0);
    await waitFor(async () => ((await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: 'app=bulk' })).items.length === 0 ? true : undefined), {
      what: 'bulk pods gone',
      timeoutMs: 300_000,
      intervalMs: 1000,
    });
    await settleWiring(CLUSTER, kc, nodeCidrs, 'only the remaining pods keep veths');
  });

  test('restarting the plugin and the controller while pods come and go ends with every pod wired exactly once', async () => {
    await createPauseDeployment(kc, 'churn', 20);
    const steps = [35, 8, 30, 12, 25];
    for (const [i, replicas] of steps.entries()) {
      await scaleDeployment(kc, 'churn', replicas);
      // Alternate: kill every plugin, then every controller, mid-churn.
      const target = i % 2 === 0 ? 'dist/plugin/main.js' : 'dist/controller/main.js';
      await waitFor(async () => ((await wiredPods(kc)).length > 0 ? true : undefined), { what: 'pods running', timeoutMs: 30_000 });
      await run('pkill', ['-KILL', '-f', target]).catch(() => undefined);
    }
    await waitForReadyPods(kc, 'default', 'app=churn', 25, 300_000);
    const cnf = await waitForReadyPods(kc, AGENT_NAMESPACE, 'fleetboard.io/role=cnf', 2);
    for (const p of cnf) {
      for (const c of p.status?.containerStatuses ?? []) {
        assert.ok(c.restartCount >= 1, `${c.name} on ${p.spec?.nodeName ?? ''} was restarted (restartCount ${c.restartCount})`);
      }
    }
    const wired = await settleWiring(CLUSTER, kc, nodeCidrs, 'every pod wired once after restarts');
    assert.ok(wired >= 31, `web + churn pods wired (${wired})`);
    await pingAcrossNodes(kc, 'app=churn');
  });
});
