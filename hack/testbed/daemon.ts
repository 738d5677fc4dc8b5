import { appendFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from '../../controller/kube/keepAliveKubeConfig.js';
import { ControlPlane } from '../../test/harness/controlPlane.js';
import { renderKubeconfig } from '../../test/harness/kubeconfig.js';
import { waitFor } from '../../test/harness/wait.js';
import { runIn } from '../../test/harness/run.js';
import { clusterAddons } from './addons.js';
import { createAll } from './apply.js';
import { serveControl, type ControlAction } from './control.js';
import { addRoute } from './net.js';
import { buildNetwork } from './network.js';
import { ImageRegistry } from './node/imageRegistry.js';
import { RealNode } from './node/realNode.js';
import { NodeAgent } from './nodeAgent.js';
import { testbedPaths } from './paths.js';
import { planTestbed, type ClusterPlan, type TestbedPlan } from './plan.js';
import { sweep } from './sweep.js';

export type Phase = 'starting' | 'ready' | 'failed' | 'stopping';

/** Where each cluster's image registry listens, in its control plane's netns. */
const REGISTRY_PORT = 5000;

export interface TestbedStatus {
  phase: Phase;
  pid: number;
  error?: string;
  plan: TestbedPlan;
  /** Real nodes (kubelet and containerd): the PID whose /proc/<pid>/root is each node's filesystem, by node name. */
  nodePids?: Record<string, number>;
  startedAt: string;
  readyAt?: string;
}

/**
 * The testbed supervisor: one detached process that builds the network, runs
 * every control plane and node agent, and on SIGTERM takes it all down again.
 */
class TestbedDaemon {
  private readonly paths = testbedPaths();
  private readonly planes: ControlPlane[] = [];
  private readonly agents: NodeAgent[] = [];
  private readonly nodes: RealNode[] = [];
  private readonly registries: ImageRegistry[] = [];
  private readonly status: TestbedStatus;
  private readonly started = Date.now();
  private control: Server | undefined;

  constructor(
    private readonly plan: TestbedPlan,
    private readonly realNodes: boolean,
  ) {
    this.status = { phase: 'starting', pid: process.pid, plan, startedAt: new Date().toISOString() };
  }

  private write(update: Partial<TestbedStatus>): void {
    Object.assign(this.status, update);
    writeFileSync(this.paths.statusFile, JSON.stringify(this.status, null, 2));
  }

  progress(message: string): void {
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    appendFileSync(this.paths.progressFile, `[${secs.padStart(6)} s] ${message}\n`);
  }

  log = (message: string): void => {
    appendFileSync(this.paths.daemonLog, `${new Date().toISOString()} ${message}\n`);
  };

  async up(): Promise<void> {
    mkdirSync(this.paths.runDir, { recursive: true });
    this.write({});
    this.progress(`network: hub + ${this.plan.clusters.length - 1} member clusters, ${this.plan.clusters[0]?.nodes.length ?? 0} nodes each`);
    await buildNetwork(this.plan);
    this.progress('control planes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler');
    await Promise.all(this.plan.clusters.map((c) => this.startControlPlane(c)));
    if (this.realNodes) {
      this.progress('nodes: a kubelet and containerd (2.x on odd nodes, 1.7 on even ones) per node, images from each cluster\'s registry');
      const started = await Promise.allSettled(this.plan.clusters.map((c) => this.startRealNodes(c)));
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      this.write({ nodePids: Object.fromEntries(this.nodes.map((n) => [n.name, n.pid])) });
    } else {
      this.progress('nodes: registering node agents and NRI runtimes');
      await Promise.all(this.plan.clusters.map((c) => this.startNodes(c)));
    }
    this.progress('add-ons: kube-proxy and CoreDNS');
    await Promise.all(this.plan.clusters.map((c) => this.installAddons(c)));
    this.control = await serveControl(this.paths.controlSocket, (action) => this.act(action));
    this.write({ phase: 'ready', readyAt: new Date().toISOString() });
    this.progress(`ready: kubeconfigs in ${this.paths.stateDir}/<cluster>.kubeconfig`);
  }

  private async startControlPlane(c: ClusterPlan): Promise<void> {
    const cp = new ControlPlane({
      name: c.name,
      dir: join(this.paths.runDir, 'clusters', c.name),
      netns: c.controlPlane.netns,
      bindAddress: '0.0.0.0',
      advertiseAddress: c.controlPlane.ip,
      clientAddress: c.hostLink.peerIp,
      apiServerPort: c.controlPlane.port,
      serviceCidr: c.serviceCidr,
      podCidr: c.podCidr,
      serviceIp: c.apiServiceIp,
    });
    this.planes.push(cp);
    await cp.start();
    copyFileSync(cp.kubeconfigPath, this.paths.kubeconfig(c.name));
    this.progress(`  ${c.name}: control plane ready at ${cp.server}`);
  }

  private async startNodes(c: ClusterPlan): Promise<void> {
    const cp = this.planes.find((p) => p.name === c.name);
    if (!cp) throw new Error(`no control plane for ${c.name}`);
    await Promise.all(
      c.nodes.map(async (node) => {
        const creds = await cp.issueClientCert(`system:node:${node.name}`, ['system:nodes']);
        const kc = new KeepAliveKubeConfig();
        kc.loadFromString(renderKubeconfig({ cluster: c.name, server: cp.server, caPem: cp.caPem, user: node.name, credentials: creds }));
        const agent = new NodeAgent({
          cluster: c,
          node,
          kubeConfig: kc,
          networkKubeConfig: cp.kubeConfig(),
          runDir: this.paths.runDir,
          createdPathsFile: this.paths.createdPathsFile,
          pidFile: this.paths.pidFile,
          nodeResolvConf: `nameserver ${this.plan.wan.ip}\n`,
          log: this.log,
        });
        this.agents.push(agent);
        await agent.start();
      }),
    );
    this.progress(`  ${c.name}: ${c.nodes.length} nodes Ready (CNI ${c.cni})`);
  }

  private async startRealNodes(c: ClusterPlan): Promise<void> {
    const cp = this.planes.find((p) => p.name === c.name);
    if (!cp) throw new Error(`no control plane for ${c.name}`);
    const registry = new ImageRegistry({ netns: c.controlPlane.netns, ip: c.controlPlane.ip, port: REGISTRY_PORT, dir: join(this.paths.runDir, 'clusters', c.name, 'registry') });
    this.registries.push(registry);
    await registry.start();
    // Every start settles before down() stops the nodes, or a late one would outlive its stop.
    const started = await Promise.allSettled(
      c.nodes.map(async (n, i) => {
        const credentials = await cp.issueClientCert(`system:node:${n.name}`, ['system:nodes']);
        const node = new RealNode({
          name: n.name,
          netns: n.netns,
          ip: n.ip,
          dir: join(this.paths.runDir, 'nodes', n.name),
          // Odd nodes run containerd 2.x, even ones 1.7: both NRI paths are in use.
          runtime: i % 2 === 0 ? 'containerd-2' : 'containerd-1.7',
          cni: c.cni,
          clusterDns: c.dnsServiceIp,
          resolvConf: `nameserver ${this.plan.wan.ip}\n`,
          caPem: cp.caPem,
          // The kubelet reaches its apiserver over the cluster's network, as on a machine of the cluster.
          kubeconfig: renderKubeconfig({ cluster: c.name, server: `https://${c.controlPlane.ip}:${c.controlPlane.port}`, caPem: cp.caPem, user: n.name, credentials }),
          serving: await cp.issueKubeletServingCert(n.name, n.ip),
          registry: registry.address,
          admin: cp.kubeConfig(),
        });
        this.nodes.push(node);
        await node.start();
        return { plan: n, node };
      }),
    );
    const nodes = started.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    });
    // Each node routes the others' pod CIDRs, as a cloud's route table would.
    for (const from of nodes) {
      for (const to of nodes) if (to !== from) await addRoute(from.plan.netns, to.node.podCidr, to.plan.ip);
    }
    this.progress(`  ${c.name}: ${c.nodes.length} nodes Ready (CNI ${c.cni})`);
  }

  private async installAddons(c: ClusterPlan): Promise<void> {
    const cp = this.planes.find((p) => p.name === c.name);
    if (!cp) throw new Error(`no control plane for ${c.name}`);
    const kc = cp.kubeConfig();
    await createAll(kc, clusterAddons(c));
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    await waitFor(
      async () => {
        cp.assertRunning();
        const ds = await apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' });
        const dns = await apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
        const proxyReady = (ds.status?.numberReady ?? 0) === c.nodes.length;
        const dnsReady = (dns.status?.readyReplicas ?? 0) === (dns.spec?.replicas ?? 1);
        if (!proxyReady || !dnsReady) return undefined;
        // CoreDNS answers only through kube-proxy's rules: wait for the Service's endpoints too.
        const slices = await core.readNamespacedEndpoints({ name: 'kube-dns', namespace: 'kube-system' });
        return (slices.subsets?.[0]?.addresses?.length ?? 0) > 0 ? true : undefined;
      },
      { what: `${c.name} kube-proxy and CoreDNS ready`, timeoutMs: 120_000, intervalMs: 500 },
    );
    // Ready means answering: a node resolves the apiserver's name through kube-dns and kube-proxy.
    const node = c.nodes[0];
    if (node) {
      await waitFor(
        async () => {
          const { stdout } = await runIn(node.netns, 'dig', ['+short', '+time=1', '+tries=1', `@${c.dnsServiceIp}`, 'kubernetes.default.svc.cluster.local']);
          return stdout.trim() === c.apiServiceIp ? true : undefined;
        },
        { what: `${c.name} cluster DNS answering at ${c.dnsServiceIp}`, timeoutMs: 60_000, intervalMs: 300 },
      );
    }
    this.progress(`  ${c.name}: kube-proxy and CoreDNS ready`);
  }

  /** One request on the control socket: a fault a test injects, or its repair. */
  private async act(action: ControlAction): Promise<void> {
    const cp = this.planes.find((p) => p.name === action.cluster);
    if (!cp) throw new Error(`no cluster ${action.cluster}`);
    if (action.kind === 'apiserver') {
      this.progress(`control: ${action.verb} the ${action.cluster} kube-apiserver`);
      await (action.verb === 'stop' ? cp.stopApiServer() : cp.startApiServer());
      return;
    }
    const node = this.nodes.find((n) => n.name === action.node && this.plan.clusters.find((c) => c.name === action.cluster)?.nodes.some((p) => p.name === n.name));
    if (node) {
      this.progress(`control: restart containerd of ${action.cluster}/${action.node}`);
      await node.restartContainerd();
      return;
    }
    const agent = this.agents.find((a) => a.cluster === action.cluster && a.name === action.node);
    if (!agent) throw new Error(`no node ${action.node} in ${action.cluster}`);
    this.progress(`control: restart the NRI runtime of ${action.cluster}/${action.node}`);
    await agent.restartNriRuntime();
  }

  async down(): Promise<void> {
    this.write({ phase: 'stopping' });
    this.control?.close();
    await Promise.allSettled(this.agents.map((a) => a.stop()));
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
    await Promise.allSettled(this.registries.map((r) => r.stop()));
    await Promise.allSettled(this.planes.map((p) => p.stop({ keepDir: true })));
    await sweep(this.paths, { keepState: true });
  }

  fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.log(`failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
    this.progress(`failed: ${message}`);
    this.write({ phase: 'failed', error: message });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { clusters: { type: 'string', default: '2' }, nodes: { type: 'string', default: '2' }, 'real-nodes': { type: 'boolean', default: false } } });
  const daemon = new TestbedDaemon(planTestbed({ clusters: Number(values.clusters), nodes: Number(values.nodes) }), values['real-nodes']);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    daemon.progress('stopping: removing pods, control planes and network');
    void daemon.down().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('uncaughtException', (err) => daemon.log(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => daemon.log(`unhandled rejection: ${String(err)}`));
  try {
    await daemon.up();
  } catch (err) {
    // Stay up in the failed phase: `down` (or the waiting `up`) tears down and reads the logs.
    daemon.fail(err);
  }
}

void main();
