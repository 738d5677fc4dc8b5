import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { decodePodNetwork, podNetworkAnnotations } from '../../controller/ipam/annotations.js';
import { controllerMetric, fleetInterface, installAgent, settleWiring, waitForNodeCidrs, wiredPods } from '../harness/fleetboard.js';
import { createPauseDeployment, scaleDeployment, waitForReadyPods } from '../harness/cluster.js';
import { run } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';

const CLUSTER = 'cluster1';
const NODE = 'cluster1-node1';

/** Waits for an Event with `reason` about `pod`, as `kubectl describe pod` lists them. */
async function podEvent(kc: KubeConfig, pod: V1Pod, reason: string, timeoutMs = 30_000): Promise<CoreV1Event> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(
    async () => {
      const list = await core.listNamespacedEvent({ namespace: pod.metadata?.namespace ?? 'default', fieldSelector: `involvedObject.uid=${pod.metadata?.uid ?? ''},reason=${reason}` });
      return list.items[0];
    },
    { what: `Event ${reason} on pod ${pod.metadata?.name ?? ''}`, timeoutMs },
  );
}

async function podsOf(kc: KubeConfig, app: string): Promise<V1Pod[]> {
  return (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function metric(kc: KubeConfig, name: string): Promise<number> {
  const value = await controllerMetric(CLUSTER, kc, NODE, name);
  assert.ok(value !== undefined, `${name} is exported`);
  return value;
}

/** A /28 node CIDR holds 13 pods (network, broadcast and gateway excluded), small enough to fill. */
describe('pod addresses at their limits (cluster1, 1 node, /28 node CIDR)', () => {
  let kc: KubeConfig;
  let nodeCidrs: Map<string, string>;

  before(async () => {
    await up({ clusters: 1, nodes: 1 });
    kc = kubeConfigFor(CLUSTER);
    await installAgent(kc, { clusterCidr: '10.113.0.0/16', nodeCidrPrefix: 28, leaseDuration: 4, renewDeadline: 3, retryPeriod: 1 }, 1);
    nodeCidrs = await waitForNodeCidrs(kc, 1);
    await settleWiring(CLUSTER, kc, nodeCidrs, 'system pods wired');
  });

  after(async () => {
    await down();
  });

  test('a full node CIDR fails the next pod with an Event that names the CIDR, and the pod starts once an address is free', async () => {
    const capacity = await metric(kc, 'fleetboard_ipam_addresses_capacity');
    assert.equal(capacity, 13);
    const free = capacity - (await metric(kc, 'fleetboard_ipam_addresses_in_use'));
    await createPauseDeployment(kc, 'fill', free);
    await waitForReadyPods(kc, 'default', 'app=fill', free);
    assert.equal(await metric(kc, 'fleetboard_ipam_addresses_in_use'), capacity);

    await createPauseDeployment(kc, 'overflow', 1);
    const pod = await waitFor(async () => (await podsOf(kc, 'overflow'))[0], { what: 'the overflow pod', timeoutMs: 30_000 });
    const cidr = nodeCidrs.get(NODE) ?? '';
    const exhausted = await podEvent(kc, pod, 'FleetboardAddressPoolExhausted');
    assert.equal(exhausted.type, 'Warning');
    assert.match(exhausted.message ?? '', new RegExp(`node CIDR ${cidr.replace(/[./]/g, '\\$&')} is exhausted`));
    // What `kubectl describe pod` shows from the runtime: the sandbox failed, with our reason.
    const sandbox = await podEvent(kc, pod, 'FailedCreatePodSandBox');
    assert.match(sandbox.message ?? '', /is exhausted/);
    assert.notEqual((await podsOf(kc, 'overflow'))[0]?.status?.phase, 'Running');

    await scaleDeployment(kc, 'fill', free - 1);
    await waitForReadyPods(kc, 'default', 'app=overflow', 1, 90_000);
    await settleWiring(CLUSTER, kc, nodeCidrs, 'every pod wired once after the pool freed an address');
    assert.equal(await metric(kc, 'fleetboard_ipam_addresses_in_use'), capacity);
  });

  test('an annotation edited by hand to a taken address is not kept after a controller restart, and the pod that had it first keeps it', async () => {
    const [first] = await podsOf(kc, 'fill');
    const [later] = await podsOf(kc, 'overflow');
    assert.ok(first && later);
    const taken = decodePodNetwork(first.metadata?.annotations)?.ipAddress ?? '';
    assert.ok(taken);
    await kc.makeApiClient(CoreV1Api).patchNamespacedPod(
      { name: later.metadata?.name ?? '', namespace: 'default', body: { metadata: { annotations: { [podNetworkAnnotations.ipAddress]: taken } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await run('pkill', ['-KILL', '-f', 'dist/controller/main.js']);

    const notKept = await podEvent(kc, later, 'FleetboardAddressNotKept', 60_000);
    assert.equal(notKept.type, 'Warning');
    assert.match(notKept.message ?? '', new RegExp(`${taken.replace(/\./g, '\\.')}.*delete the pod`));
    const keeper = (await podsOf(kc, 'fill')).find((p) => p.metadata?.uid === first.metadata?.uid);
    assert.equal(decodePodNetwork(keeper?.metadata?.annotations)?.ipAddress, taken, 'the pod that had the address first keeps its record');
    assert.equal((await fleetInterface(CLUSTER, first))?.ip, taken, 'and its interface');

    // The fix the Event names: delete the pod; its Deployment recreates it with a fresh address.
    await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: later.metadata?.name ?? '', namespace: 'default' });
    await waitFor(async () => ((await wiredPods(kc)).some((p) => p.metadata?.labels?.app === 'overflow' && p.metadata.uid !== later.metadata?.uid) ? true : undefined), {
      what: 'a replacement overflow pod running',
      timeoutMs: 90_000,
    });
    await settleWiring(CLUSTER, kc, nodeCidrs, 'every pod wired once after the replacement');
  });
});
