import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { NETNS_PREFIX, planTestbed, type ClusterPlan } from '../../hack/testbed/plan.js';
import { buildNetwork, destroyNetwork } from '../../hack/testbed/network.js';
import { listNetns } from '../../hack/testbed/net.js';
import { ImageRegistry, REGISTRY_STORAGE } from '../../hack/testbed/node/imageRegistry.js';
import { RealNode } from '../../hack/testbed/node/realNode.js';
import { nodeCgroup, nodeProcesses } from '../../hack/testbed/node/cgroups.js';
import { ControlPlane } from '../harness/controlPlane.js';
import { renderKubeconfig } from '../harness/kubeconfig.js';
import { run } from '../harness/run.js';
import { pinned, repoRoot, toolPath } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';

/** A pod pinned to `node` running busybox with `script`. */
async function busyboxPod(kc: KubeConfig, name: string, node: string, image: string, script: string): Promise<V1Pod> {
  return kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, command: ['sh', '-c', script] }] },
    },
  });
}

async function podPhase(kc: KubeConfig, name: string): Promise<V1Pod> {
  return kc.makeApiClient(CoreV1Api).readNamespacedPod({ name, namespace: 'default' });
}

describe('real nodes: containerd 2.x and 1.7 with NRI, and a kubelet each, in their own namespaces', () => {
  let dir: string;
  let cluster: ClusterPlan;
  let cp: ControlPlane;
  let registry: ImageRegistry | undefined;
  let kubectl: (...args: string[]) => Promise<string>;
  const nodes: RealNode[] = [];
  let netnsBefore: string[];

  before(async () => {
    netnsBefore = await listNetns();
    dir = await mkdtemp(join(tmpdir(), 'fleetboard-nodes-'));
    const plan = planTestbed({ clusters: 1, nodes: 2 });
    cluster = plan.clusters.find((c) => c.name === 'cluster1') ?? assert.fail('cluster1 in the plan');
    await buildNetwork(plan);
    cp = new ControlPlane({
      name: cluster.name,
      dir: join(dir, 'cp'),
      netns: cluster.controlPlane.netns,
      bindAddress: '0.0.0.0',
      advertiseAddress: cluster.controlPlane.ip,
      clientAddress: cluster.hostLink.peerIp,
      apiServerPort: cluster.controlPlane.port,
      serviceCidr: cluster.serviceCidr,
      podCidr: cluster.podCidr,
      serviceIp: cluster.apiServiceIp,
    });
    await cp.start();
    registry = new ImageRegistry({ netns: cluster.controlPlane.netns, ip: cluster.controlPlane.ip, port: 5000, dir: join(dir, 'registry') });
    await registry.start();
    kubectl = async (...args) => (await run(toolPath('kubectl'), ['--kubeconfig', cp.kubeconfigPath, ...args])).stdout;
    const server = `https://${cluster.controlPlane.ip}:${cluster.controlPlane.port}`;
    for (const [i, plannedNode] of cluster.nodes.entries()) {
      const credentials = await cp.issueClientCert(`system:node:${plannedNode.name}`, ['system:nodes']);
      const node = new RealNode({
        name: plannedNode.name,
        netns: plannedNode.netns,
        ip: plannedNode.ip,
        dir: join(dir, plannedNode.name),
        // Odd nodes run containerd 2.x, even ones 1.7: both NRI paths are in use.
        runtime: i % 2 === 0 ? 'containerd-2' : 'containerd-1.7',
        cni: cluster.cni,
        clusterDns: cluster.dnsServiceIp,
        resolvConf: `nameserver ${plan.wan.ip}\n`,
        caPem: cp.caPem,
        kubeconfig: renderKubeconfig({ cluster: cluster.name, server, caPem: cp.caPem, user: plannedNode.name, credentials }),
        serving: await cp.issueKubeletServingCert(plannedNode.name, plannedNode.ip),
        registry: registry.address,
        admin: cp.kubeConfig(),
      });
      nodes.push(node);
    }
    // Every start settles before after() stops the nodes, or a late one would outlive its stop.
    const started = await Promise.allSettled(nodes.map((n) => n.start()));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    // Pods need their namespace's default ServiceAccount, which the controller manager makes.
    await waitFor(() => cp.kubeConfig().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'default', namespace: 'default' }), {
      what: 'the default ServiceAccount',
      timeoutMs: 30_000,
    });
  });

  after(async () => {
    for (const n of nodes) await n.stop().catch((err: unknown) => console.error(err));
    await registry?.stop();
    await cp.stop();
    await destroyNetwork();
    await rm(dir, { recursive: true, force: true });
  });

  test('each node reports the kubelet and containerd releases it runs, and is Ready', async () => {
    const kube = await pinned('.', 'k8s.io/kubernetes');
    const containerd = { 'containerd-2': await pinned('containerd', 'github.com/containerd/containerd/v2'), 'containerd-1.7': await pinned('containerd-1.7', 'github.com/containerd/containerd') };
    for (const node of nodes) {
      const info = (await cp.kubeConfig().makeApiClient(CoreV1Api).readNode({ name: node.name })).status?.nodeInfo;
      assert.equal(info?.kubeletVersion, kube, node.name);
      assert.equal(info.containerRuntimeVersion, `containerd://${containerd[node.runtime].slice(1)}`, node.name);
    }
  });

  test('pods run on both runtimes from the locally built images; kubectl logs and exec reach them through the kubelets\' verified API', async () => {
    for (const node of nodes) {
      const name = `hello-${node.name}`;
      await busyboxPod(cp.kubeConfig(), name, node.name, 'busybox:1.35', 'echo "hello from $(hostname)"; exec sleep 3600');
      await waitFor(async () => ((await podPhase(cp.kubeConfig(), name)).status?.phase === 'Running' ? true : undefined), { what: `${name} Running`, timeoutMs: 60_000 }).catch(
        async (err: unknown) => assert.fail(`${(err as Error).message}\n${await kubectl('describe', 'pod', name)}`),
      );
      const logs = await waitFor(async () => ((await kubectl('logs', name)).includes('hello') ? kubectl('logs', name) : undefined), { what: `${name}'s log`, timeoutMs: 20_000 });
      assert.equal(logs.trim(), `hello from ${name}`);
      assert.equal((await kubectl('exec', name, '--', 'cat', '/etc/hostname')).trim(), name);
      // The pod's network namespace is the node's, not the host's.
      const podNetns = (await node.inNode('ip', ['netns', 'list'])).trim();
      assert.match(podNetns, /^cni-/, `${node.name} lists its pod's netns`);
      assert.ok(!(await listNetns()).some((n) => podNetns.startsWith(n)), 'the host does not see the pod\'s netns');
      // FleetBoard's plugin connects at /var/run/nri/nri.sock (/var/run links to /run, which a path through /proc/<pid>/root would resolve on the host).
      assert.ok(existsSync(node.hostPath('/run/nri/nri.sock')), `${node.name} serves NRI at /var/run/nri/nri.sock`);
    }
  });

  test('the seeds\' images run as their names promise: nginx serves its welcome page to curl in alpine, netshoot carries its tools', async () => {
    const node = nodes[0] ?? assert.fail('a node');
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'seed-images' },
        spec: {
          nodeName: node.name,
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] },
            { name: 'alpine', image: 'alpine', command: ['sleep', 'infinity'] },
            { name: 'netshoot', image: 'nicolaka/netshoot', command: ['sleep', 'infinity'] },
          ],
        },
      },
    });
    await waitFor(async () => ((await podPhase(cp.kubeConfig(), 'seed-images')).status?.phase === 'Running' ? true : undefined), { what: 'seed-images Running', timeoutMs: 90_000 }).catch(
      async (err: unknown) => assert.fail(`${(err as Error).message}\n${await kubectl('describe', 'pod', 'seed-images')}`),
    );
    const page = await waitFor(async () => kubectl('exec', 'seed-images', '-c', 'alpine', '--', 'curl', '-sS', 'http://127.0.0.1/').catch(() => undefined), { what: 'nginx answering', timeoutMs: 20_000 });
    assert.match(page, /<title>Welcome to nginx!<\/title>/);
    for (const tool of ['curl', 'dig', 'nslookup', 'nc', 'socat', 'iperf3', 'ip']) {
      await kubectl('exec', 'seed-images', '-c', 'netshoot', '--', 'sh', '-c', `command -v ${tool}`).catch(() => assert.fail(`netshoot has ${tool}`));
    }
    assert.match(await kubectl('logs', 'seed-images', '-c', 'nginx'), /GET \/ HTTP\/1\.1" 200/, 'nginx logs its requests to the container log');
  });

  test('FleetBoard\'s image, built from the Dockerfile, runs under its digest with the Node.js it ships', async () => {
    const node = nodes.at(-1) ?? assert.fail('a node');
    const image = `ghcr.io/fleetboard-io/fleetboard:${(JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}`;
    await busyboxPod(cp.kubeConfig(), 'fleetboard-image', node.name, image, 'node --version; fleetctl --help >/dev/null && echo fleetctl ok; exec sleep 3600');
    const pod = await waitFor(async () => {
      const p = await podPhase(cp.kubeConfig(), 'fleetboard-image');
      return p.status?.phase === 'Running' ? p : undefined;
    }, { what: 'the FleetBoard image\'s pod Running', timeoutMs: 90_000 }).catch(async (err: unknown) => assert.fail(`${(err as Error).message}\n${await kubectl('describe', 'pod', 'fleetboard-image')}`));
    const digest = (await readFile(join(REGISTRY_STORAGE, 'fleetboard.digest'), 'utf8')).trim();
    assert.equal(pod.status?.containerStatuses?.[0]?.imageID, `ghcr.io/fleetboard-io/fleetboard@${digest}`);
    const nodeVersion = /^NODE_VERSION=(.+)$/m.exec(await readFile(join(repoRoot, 'hack', 'images', 'node', 'versions.env'), 'utf8'))?.[1];
    const logs = await waitFor(async () => ((await kubectl('logs', 'fleetboard-image')).includes('fleetctl ok') ? kubectl('logs', 'fleetboard-image') : undefined), { what: 'fleetctl to answer', timeoutMs: 30_000 });
    assert.equal(logs.trim(), `v${nodeVersion ?? '?'}\nfleetctl ok`);
  });

  test('a pod whose image was not built fails to pull it, as on a cluster without a registry', async () => {
    const node = nodes[0] ?? assert.fail('a node');
    await busyboxPod(cp.kubeConfig(), 'not-built', node.name, 'docker.io/library/not-built:1.0', 'true');
    const reason = await waitFor(
      async () => {
        const waiting = (await podPhase(cp.kubeConfig(), 'not-built')).status?.containerStatuses?.[0]?.state?.waiting?.reason;
        return waiting === 'ErrImagePull' || waiting === 'ImagePullBackOff' ? waiting : undefined;
      },
      { what: 'the pod of an image that was not built to fail its pull', timeoutMs: 90_000, intervalMs: 500 },
    );
    assert.match(reason, /ErrImagePull|ImagePullBackOff/);
  });

  test('containerd killed and started again, as a crash: the running pod keeps its container, and a new pod starts', async () => {
    const node = nodes[0] ?? assert.fail('a node');
    const name = `hello-${node.name}`;
    const before = (await podPhase(cp.kubeConfig(), name)).status?.containerStatuses?.[0];
    await node.restartContainerd();
    await busyboxPod(cp.kubeConfig(), 'after-restart', node.name, 'busybox:1.35', 'exec sleep 3600');
    await waitFor(async () => ((await podPhase(cp.kubeConfig(), 'after-restart')).status?.phase === 'Running' ? true : undefined), { what: 'a pod started after the restart Running', timeoutMs: 60_000 });
    const kept = (await podPhase(cp.kubeConfig(), name)).status?.containerStatuses?.[0];
    assert.equal(kept?.containerID, before?.containerID, 'the container that ran before the restart still runs');
    assert.equal(kept?.restartCount, 0);
    assert.equal((await kubectl('exec', name, '--', 'cat', '/etc/hostname')).trim(), name, 'the restarted containerd serves exec into the old container');
  });

  test('stopping a node leaves no process, cgroup, mount, netns or file of it on the host', async () => {
    const node = nodes.at(-1) ?? assert.fail('a node');
    const nodeDir = join(dir, node.name);
    assert.ok((await nodeProcesses(node.name)).length > 3, 'containerd, its shims, the kubelet and the containers run in the node\'s cgroup');
    await node.stop();
    assert.deepEqual(await nodeProcesses(node.name), []);
    assert.ok(!existsSync(join('/sys/fs/cgroup/memory', nodeCgroup(node.name))), 'the node\'s cgroup is gone');
    assert.ok(!existsSync(nodeDir), 'the node\'s folder is gone');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(nodeDir), 'no mount of the node is left on the host');
    assert.deepEqual((await listNetns()).filter((n) => !netnsBefore.includes(n) && !n.startsWith(NETNS_PREFIX)), [], 'no pod netns appeared on the host');
  });
});
