import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1DaemonSet } from '@kubernetes/client-node';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { testbedPaths } from '../../hack/testbed/paths.js';
import { AGENT_NAMESPACE, agentValues, CROSSDNS_SELECTOR } from '../../hack/testbed/fleetboardAgent.js';
import { containerProcesses } from '../../hack/testbed/node/podProcess.js';
import { createAll } from '../../hack/testbed/apply.js';
import { helmUninstall, renderChart } from '../../hack/testbed/charts.js';
import { CNF_SELECTOR } from '../../controller/cli/memberInfo.js';
import { HUB_NAMESPACE } from '../../hack/testbed/fleetboardHub.js';
import { REGISTRY_STORAGE } from '../../hack/testbed/node/imageRegistry.js';
import { installHub, joinMember } from '../harness/clusterset.js';
import { waitForReadyPods } from '../harness/cluster.js';
import { run } from '../harness/run.js';
import { pinned, repoRoot, toolPath } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';

const MEMBERS = ['cluster1', 'cluster2'] as const;

const kubectl = async (cluster: string, ...args: string[]) => (await run(toolPath('kubectl'), ['--kubeconfig', testbedPaths().kubeconfig(cluster), ...args], { timeoutMs: 60_000 })).stdout;

describe('real nodes: FleetBoard from the image its Dockerfile builds, installed with helm at the charts\' default timings, runs the seed example', () => {
  let hub: KubeConfig;
  const kc: Record<string, KubeConfig> = {};

  before(async () => {
    await up({ clusters: 2, nodes: 2, realNodes: true });
    hub = kubeConfigFor('hub');
    const token = await installHub(hub, { nodes: 2 });
    for (const c of MEMBERS) kc[c] = kubeConfigFor(c);
    await Promise.all(MEMBERS.map((c) => joinMember(kc[c] as KubeConfig, hub, c, token, 2)));
  });

  after(async () => {
    await down();
  });

  test('nodes report their kubelet and containerd releases; every FleetBoard container runs the built image, and kubectl logs and exec reach it', async () => {
    const kube = await pinned('.', 'k8s.io/kubernetes');
    const digest = (await readFile(join(REGISTRY_STORAGE, 'fleetboard.digest'), 'utf8')).trim();
    for (const [cluster, k, namespace] of [['hub', hub, HUB_NAMESPACE], ...MEMBERS.map((c) => [c, kc[c] as KubeConfig, AGENT_NAMESPACE] as const)] as const) {
      const core = k.makeApiClient(CoreV1Api);
      const runtimes = (await core.listNode()).items.map((n) => `${n.status?.nodeInfo?.kubeletVersion ?? ''} ${n.status?.nodeInfo?.containerRuntimeVersion ?? ''}`).sort();
      assert.deepEqual(runtimes.map((r) => r.replace(/containerd:\/\/(2|1\.7)\.[\d.]+$/, 'containerd://$1')), [`${kube} containerd://1.7`, `${kube} containerd://2`], `${cluster}'s nodes`);
      const pods = (await core.listNamespacedPod({ namespace })).items;
      assert.ok(pods.length >= 2, `${cluster} runs FleetBoard's pods`);
      for (const p of pods) {
        for (const s of p.status?.containerStatuses ?? []) assert.equal(s.imageID, `ghcr.io/fleetboard-io/fleetboard@${digest}`, `${cluster} ${p.metadata?.name ?? ''}/${s.name}`);
      }
      const pod = pods[0]?.metadata?.name ?? '';
      const container = pods[0]?.spec?.containers[0]?.name ?? '';
      assert.notEqual((await kubectl(cluster, 'logs', '-n', namespace, pod, '-c', container)).trim(), '', `kubectl logs ${pod} -c ${container}`);
      assert.match(await kubectl(cluster, 'exec', '-n', namespace, pod, '-c', container, '--', 'node', '--version'), /^v24\./, `kubectl exec ${pod} -c ${container}`);
    }
  });

  test('the seed example applied as written in both members; from cluster2, kubectl exec <nginx-app pod> -c alpine -- curl nginx-svc.default.svc.hyperos.local prints the nginx page', async () => {
    const example = join(repoRoot, 'examples', 'nginx-deploy.yaml');
    for (const c of MEMBERS) await kubectl(c, 'apply', '-f', example);
    for (const c of MEMBERS) await waitForReadyPods(kc[c] as KubeConfig, 'default', 'app=nginx-app', 2, 180_000);
    const pod = (await kubectl('cluster2', 'get', 'pods', '-l', 'app=nginx-app', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    const page = await waitFor(() => kubectl('cluster2', 'exec', pod, '-c', 'alpine', '--', 'curl', 'nginx-svc.default.svc.hyperos.local').catch(() => undefined), {
      what: 'the seed example\'s curl to answer',
      timeoutMs: 120_000,
      intervalMs: 2000,
    });
    assert.match(page, /<title>Welcome to nginx!<\/title>/);
  });

  test('a hung crossdns (SIGSTOP) fails its liveness probe and the kubelet restarts it', async () => {
    const k = kc.cluster1 as KubeConfig;
    const core = k.makeApiClient(CoreV1Api);
    const [pod] = (await core.listNamespacedPod({ namespace: AGENT_NAMESPACE, labelSelector: CROSSDNS_SELECTOR })).items;
    const status = pod?.status?.containerStatuses?.[0];
    const id = status?.containerID?.replace(/^containerd:\/\//, '') ?? assert.fail('a running crossdns container');
    const pids = containerProcesses(pod?.spec?.nodeName ?? '', pod?.metadata?.uid ?? '', id);
    assert.ok(pids.length > 0, 'found crossdns\'s processes through its cgroup');
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const restarted = await waitFor(
      async () => {
        const s = (await core.readNamespacedPod({ name: pod?.metadata?.name ?? '', namespace: AGENT_NAMESPACE })).status?.containerStatuses?.[0];
        return s && s.restartCount > (status?.restartCount ?? 0) && s.ready ? s : undefined;
      },
      { what: 'the kubelet to restart the hung crossdns and see it ready', timeoutMs: 120_000, intervalMs: 1000 },
    );
    assert.match(restarted.lastState?.terminated?.reason ?? '', /Error|Killed/, 'the hung container was killed');
    const events = (await core.listNamespacedEvent({ namespace: AGENT_NAMESPACE, fieldSelector: `involvedObject.name=${pod?.metadata?.name ?? ''}` })).items;
    assert.ok(events.some((e) => e.reason === 'Unhealthy' && /Liveness probe failed/.test(e.message ?? '')), 'the kubelet reports the failed liveness probe');
  });

  test('the agent chart without the /var/run/netns mount: a new pod gets no eth-fleet, and its event says to mount the node\'s /var/run/netns', async () => {
    const k = kc.cluster2 as KubeConfig;
    await helmUninstall(k, 'fleetboard-agent', AGENT_NAMESPACE);
    // The chart as a user might have edited it: the plugin container lost its netns mount.
    const objects = (await renderChart('fleetboard-agent', AGENT_NAMESPACE, agentValues({ clusterCidr: '10.113.0.0/16' }))).map((o) => {
      if (o.kind !== 'DaemonSet') return o;
      const spec = (o as V1DaemonSet).spec?.template.spec;
      if (!spec) return o;
      spec.volumes = (spec.volumes ?? []).filter((v) => v.name !== 'netns');
      for (const c of spec.containers) c.volumeMounts = (c.volumeMounts ?? []).filter((m) => m.name !== 'netns');
      return o;
    });
    await createAll(k, objects);
    await waitForReadyPods(k, AGENT_NAMESPACE, CNF_SELECTOR, 2, 120_000);
    const core = k.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'no-netns-mount' }, spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '365d'] }] } } });
    const message = await waitFor(
      async () => {
        const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=no-netns-mount' })).items;
        return events.find((e) => e.reason === 'FailedCreatePodSandBox')?.message;
      },
      { what: 'a FailedCreatePodSandBox event on the pod', timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.match(message, /network namespace \/var\/run\/netns\/\S+ is not visible in the cnf pod: mount the node's \/var\/run\/netns into the plugin container/);
    const pod = await core.readNamespacedPod({ name: 'no-netns-mount', namespace: 'default' });
    assert.notEqual(pod.status?.phase, 'Running', 'the pod does not run without its second interface');
  });
});
