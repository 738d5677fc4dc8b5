import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Address4 } from 'ip-address';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { down, kubeConfigFor, podNetns, up } from '../../hack/testbed/testbed.js';
import { listNetns } from '../../hack/testbed/net.js';
import { testbedPaths } from '../../hack/testbed/paths.js';
import { NETNS_PREFIX, podNetnsName, type TestbedPlan } from '../../hack/testbed/plan.js';
import { toolPath } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import { run, runIn } from '../harness/run.js';
import { createClientPod, createNginxApp, waitForReadyPods, waitForServiceEndpoints } from '../harness/cluster.js';

const WELCOME = /<title>Welcome to nginx!<\/title>/;

/** curl from inside a pod; resolves with the body, rejects when the request fails. */
async function curlFrom(cluster: string, pod: string, url: string, timeoutSeconds = 5): Promise<string> {
  const netns = await podNetns(cluster, 'default', pod);
  const { stdout } = await runIn(netns, 'curl', ['--silent', '--show-error', '--fail', '--max-time', String(timeoutSeconds), url]);
  return stdout;
}

const inCidr = (ip: string, cidr: string) => new Address4(ip).isInSubnet(new Address4(cidr));

describe('local testbed: hub + 2 member clusters', () => {
  let plan: TestbedPlan;
  let cluster1: KubeConfig;
  let cluster2: KubeConfig;
  let nginxPods: V1Pod[];

  before(async () => {
    const status = await up({ clusters: 2, nodes: 2 });
    plan = status.plan;
    cluster1 = kubeConfigFor('cluster1');
    cluster2 = kubeConfigFor('cluster2');
    await createNginxApp(cluster1);
    await createClientPod(cluster1, 'client');
    await createClientPod(cluster2, 'client');
    nginxPods = await waitForReadyPods(cluster1, 'default', 'app=nginx-app', 3);
    await waitForReadyPods(cluster1, 'default', 'app=client', 1);
    await waitForReadyPods(cluster2, 'default', 'app=client', 1);
  });

  after(async () => {
    await down();
    const left = (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX));
    assert.deepEqual(left, [], 'testbed down leaves no network namespace');
  });

  test('every node of every cluster is Ready', async () => {
    for (const c of plan.clusters) {
      const nodes = await kubeConfigFor(c.name).makeApiClient(CoreV1Api).listNode();
      assert.equal(nodes.items.length, c.nodes.length, `${c.name} node count`);
      for (const n of nodes.items) {
        const ready = n.status?.conditions?.find((x) => x.type === 'Ready');
        assert.equal(ready?.status, 'True', `${n.metadata?.name ?? ''} Ready`);
      }
    }
  });

  test('Deployment pods run with addresses from the shared pod CIDR, and answer over the primary network', async () => {
    const podCidr = plan.clusters[1]?.podCidr ?? '';
    assert.equal(plan.clusters[2]?.podCidr, podCidr, 'members share one pod CIDR');
    const nodes = new Set(nginxPods.map((p) => p.spec?.nodeName));
    assert.ok(nodes.size >= 2, `replicas spread over nodes (${[...nodes].join(', ')})`);
    for (const p of nginxPods) {
      const ip = p.status?.podIP ?? '';
      assert.ok(inCidr(ip, podCidr), `${ip} in ${podCidr}`);
      assert.match(await curlFrom('cluster1', 'client', `http://${ip}/`), WELCOME);
    }
  });

  test('a Service resolves through CoreDNS and is load-balanced by kube-proxy', async () => {
    const netns = await podNetns('cluster1', 'default', 'client');
    const { stdout } = await runIn(netns, 'dig', ['+short', '+time=2', '+tries=2', 'nginx-svc.default.svc.cluster.local']);
    const svc = await cluster1.makeApiClient(CoreV1Api).readNamespacedService({ name: 'nginx-svc', namespace: 'default' });
    assert.equal(stdout.trim(), svc.spec?.clusterIP);
    // Endpoints reach kube-proxy a moment after the pods turn Ready, as in any cluster.
    await waitForServiceEndpoints(cluster1, 'default', 'nginx-svc', 3);
    const page = await waitFor(() => curlFrom('cluster1', 'client', 'http://nginx-svc.default.svc.cluster.local/'), {
      what: 'nginx-svc answering through kube-proxy',
      timeoutMs: 15_000,
      intervalMs: 500,
    });
    assert.match(page, WELCOME);
    assert.match(await curlFrom('cluster1', 'client', 'http://nginx-svc/'), WELCOME, 'search domains apply');
  });

  test('pods reach their apiserver through the kubernetes Service with a ServiceAccount token', async () => {
    const netns = await podNetns('cluster1', 'default', 'client');
    // The token was issued by this cluster's apiserver for this pod; RBAC denies the default SA listing secrets.
    const { stdout } = await runIn(netns, 'curl', [
      '--silent',
      '--max-time',
      '5',
      '--cacert',
      `${await projectedDir(cluster1, 'client')}/ca.crt`,
      '--header',
      `Authorization: Bearer ${await projectedToken(cluster1, 'client')}`,
      'https://kubernetes.default.svc/api/v1/namespaces/kube-system/secrets',
    ]);
    const status = JSON.parse(stdout) as { code?: number; message?: string };
    assert.equal(status.code, 403);
    assert.match(status.message ?? '', /system:serviceaccount:default:default/);
  });

  test('member clusters are isolated: same pod CIDR, no path between them, nothing reaches a member from the wan', async () => {
    const podIps = async (kc: KubeConfig) =>
      (await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items.filter((p) => !p.spec?.hostNetwork).map((p) => p.status?.podIP ?? '');
    const cluster1Ips = await podIps(cluster1);
    const cluster2Ips = await podIps(cluster2);
    assert.ok(cluster1Ips.some((ip) => cluster2Ips.includes(ip)), 'the two members hand out the very same pod addresses');
    // An nginx address that cluster2 does not use itself, so only cluster1's pod could answer.
    const target = nginxPods.map((p) => p.status?.podIP ?? '').find((ip) => !cluster2Ips.includes(ip));
    assert.ok(target, 'an nginx pod address unused in cluster2');
    await assert.rejects(curlFrom('cluster2', 'client', `http://${target}/`, 3), 'cluster2 cannot reach a cluster1 pod');

    const member = plan.clusters.find((c) => c.name === 'cluster1');
    const hubNode = plan.clusters[0]?.nodes[0];
    assert.ok(member?.gateway && hubNode);
    const memberNode = member.nodes[0];
    assert.ok(memberNode);
    // kube-proxy's health port listens on every member node: reachable inside its LAN …
    const probe = (netns: string, host: string) =>
      runIn(netns, 'curl', ['--silent', '--fail', '--max-time', '3', `http://${host}:10256/healthz`]);
    await probe(member.nodes[1]?.netns ?? '', memberNode.ip);
    // … but not from the hub, neither at the member's public address nor at its private one.
    await assert.rejects(probe(hubNode.netns, member.gateway.wanIp), 'hub → member public address');
    await assert.rejects(probe(hubNode.netns, memberNode.ip), 'hub → member node address');
    // The member itself reaches the hub's public endpoint (the apiserver) through its NAT.
    const hubCp = plan.clusters[0]?.controlPlane;
    const out = await runIn(memberNode.netns, 'curl', ['--silent', '--insecure', '--max-time', '3', `https://${hubCp?.ip ?? ''}:${hubCp?.port ?? 0}/healthz`]);
    assert.equal(out.stdout, 'ok');
  });

  test('a forwarding stanza added to the coredns ConfigMap works after restarting CoreDNS', async () => {
    const core = cluster1.makeApiClient(CoreV1Api);
    const apps = cluster1.makeApiClient(AppsV1Api);
    // A second DNS server at a static ClusterIP, the way crossdns will be deployed.
    const labels = { app: 'zone-dns' };
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'zone-dns' }, data: { Corefile: 'fleet.test:53 {\n    hosts {\n        10.112.0.5 web.fleet.test\n    }\n}\n' } },
    });
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'zone-dns' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'coredns',
                  image: 'registry.k8s.io/coredns/coredns:v1.14.7',
                  args: ['-conf', '/etc/zone-dns/Corefile'],
                  volumeMounts: [{ name: 'config', mountPath: '/etc/zone-dns' }],
                },
              ],
              volumes: [{ name: 'config', configMap: { name: 'zone-dns' } }],
            },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'zone-dns' },
        spec: { selector: labels, clusterIP: '10.96.0.11', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
      },
    });
    await waitForReadyPods(cluster1, 'default', 'app=zone-dns', 1);

    const cm = await core.readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' });
    const corefile = `${cm.data?.Corefile ?? ''}fleet.test:53 {\n    forward . 10.96.0.11\n}\n`;
    cm.data = { Corefile: corefile };
    await core.replaceNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system', body: cm });
    await core.deleteCollectionNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    await waitForReadyPods(cluster1, 'kube-system', 'k8s-app=kube-dns', 2);

    const netns = await podNetns('cluster1', 'default', 'client');
    const answer = await waitFor(
      async () => {
        const { stdout } = await runIn(netns, 'dig', ['+short', '+time=1', '+tries=1', 'web.fleet.test']);
        return stdout.trim() || undefined;
      },
      { what: 'web.fleet.test through the cluster DNS', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(answer, '10.112.0.5');
  });

  test('deleting a namespace removes its pods and their sandboxes (namespace controller + node agent)', async () => {
    const core = cluster2.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await createClientPod(cluster2, 'victim', 'doomed');
    const [victim] = await waitForReadyPods(cluster2, 'doomed', 'app=victim', 1);
    const netns = podNetnsName('cluster2', victim?.metadata?.uid ?? '');
    assert.ok((await listNetns()).includes(netns));
    await core.deleteNamespace({ name: 'doomed' });
    await waitFor(
      async () => {
        const gone = await core.readNamespace({ name: 'doomed' }).then(
          () => false,
          (err: unknown) => (err as { code?: number }).code === 404,
        );
        return gone ? true : undefined;
      },
      { what: 'namespace doomed to be deleted', timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.ok(!(await listNetns()).includes(netns), 'the pod sandbox is gone');
  });

  test('the host gained no route beyond the testbed links', async () => {
    const { stdout } = await run('ip', ['-j', 'route', 'show']);
    const routes = JSON.parse(stdout) as { dst: string; dev: string }[];
    for (const r of routes.filter((x) => x.dev.startsWith('fbh-'))) {
      assert.match(r.dst, /^198\.19\.0\.\d+\/30$/, `host route ${r.dst} via ${r.dev} is a /30 link`);
    }
  });
});

/** Directory of the pod's projected ServiceAccount volume on the host. */
async function projectedDir(kc: KubeConfig, pod: string): Promise<string> {
  const p = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: pod, namespace: 'default' });
  const vol = p.spec?.volumes?.find((v) => v.projected);
  assert.ok(vol, 'pod has a projected ServiceAccount volume');
  return join(testbedPaths().runDir, 'pods', p.metadata?.uid ?? '', 'volumes', vol.name);
}

async function projectedToken(kc: KubeConfig, pod: string): Promise<string> {
  return (await readFile(`${await projectedDir(kc, pod)}/token`, 'utf8')).trim();
}

describe('NRI: pod sandbox events reach plugins through containerd\'s NRI code', () => {
  let logger: ChildProcessWithoutNullStreams | undefined;
  const events: { event: string; name?: string; netns?: string; pods?: string[] }[] = [];

  before(async () => {
    await up({ clusters: 1, nodes: 1 });
  });

  after(async () => {
    logger?.kill();
    await down();
  });

  test('a plugin is synchronized on connect, sees Run/Stop/Remove with the pod netns, and its error fails the pod', async () => {
    const kc = kubeConfigFor('cluster1');
    const core = kc.makeApiClient(CoreV1Api);
    const node = 'cluster1-node1';
    await waitForReadyPods(kc, 'kube-system', 'k8s-app=kube-dns', 2);
    const socket = join(testbedPaths().runDir, 'nodes', node, 'root/var/run/nri/nri.sock');
    logger = spawn(toolPath('nri-event-logger'), ['--socket', socket]);
    createInterface({ input: logger.stdout }).on('line', (l) => events.push(JSON.parse(l) as (typeof events)[number]));
    const seen = (pred: (e: (typeof events)[number]) => boolean, what: string) =>
      waitFor(async () => Promise.resolve(events.find(pred)), { what, timeoutMs: 30_000 });

    const sync = await seen((e) => e.event === 'Synchronize', 'Synchronize');
    assert.ok(sync.pods?.some((p) => p.startsWith('kube-system/coredns-')), `existing pods replayed: ${String(sync.pods)}`);

    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'nri-probe', labels: { app: 'nri-probe' } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }] } },
    });
    const [pod] = await waitForReadyPods(kc, 'default', 'app=nri-probe', 1);
    const run = await seen((e) => e.event === 'RunPodSandbox' && e.name === 'nri-probe', 'RunPodSandbox');
    assert.equal(run.netns, `/run/netns/${podNetnsName('cluster1', pod?.metadata?.uid ?? '')}`);
    await core.deleteNamespacedPod({ name: 'nri-probe', namespace: 'default' });
    await seen((e) => e.event === 'StopPodSandbox' && e.name === 'nri-probe', 'StopPodSandbox');
    await seen((e) => e.event === 'RemovePodSandbox' && e.name === 'nri-probe', 'RemovePodSandbox');

    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'nri-reject-1' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } },
    });
    const failed = await waitFor(
      async () => {
        const list = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=nri-reject-1' });
        return list.items.find((e) => e.reason === 'FailedCreatePodSandBox');
      },
      { what: 'FailedCreatePodSandBox event', timeoutMs: 30_000 },
    );
    assert.match(failed.message ?? '', /refuses pods named nri-reject/);
    const rejected = await core.readNamespacedPod({ name: 'nri-reject-1', namespace: 'default' });
    const st = rejected.status;
    assert.ok(st);
    assert.equal(st.phase, 'Pending');
    assert.equal(st.podIP, undefined);
  });
});
