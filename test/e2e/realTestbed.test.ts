import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { testbedPaths } from '../../hack/testbed/paths.js';
import { AGENT_NAMESPACE } from '../../hack/testbed/fleetboardAgent.js';
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
});
