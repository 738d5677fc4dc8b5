import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { cniConfig } from './cni.js';
import { addRoute, deleteRouteIfPresent } from './net.js';
import { NriRuntime } from './nriRuntime.js';
import { PodRuntime, type NodeContext } from './pod.js';
import { podStatus } from './podStatus.js';
import { z } from 'zod';
import { ResilientWatch } from '../../controller/kube/resilientWatch.js';
import type { ObjectKind } from '../../controller/objects/decode.js';
import type { ApiObject } from '../../controller/objects/fields.js';
import { EventRecorder } from '../../controller/kube/events.js';
import { waitFor } from '../../test/harness/wait.js';
import { repoRoot, toolPath } from '../../test/harness/tools.js';
import type { ClusterPlan, NodePlan } from './plan.js';

/** The testbed's kubelet reads whole objects as the client types them (it is not FleetBoard): a copy, since the watch trims what it was given. */
const whole = <T extends object>(kind: string): ObjectKind<T & ApiObject> => ({
  kind,
  schema: z.custom<T & ApiObject>((v) => typeof v === 'object' && v !== null).transform((v) => structuredClone(v)),
});

export interface NodeAgentOptions {
  cluster: ClusterPlan;
  node: NodePlan;
  /** Credentials of this node (system:node:<name>, group system:nodes). */
  kubeConfig: KubeConfig;
  /**
   * Credentials of the cluster's network plumbing, which routes pod CIDRs
   * between nodes (a node may only read its own Node object).
   */
  networkKubeConfig: KubeConfig;
  runDir: string;
  createdPathsFile: string;
  pidFile: string;
  /** Resolver given to host-network and dnsPolicy=Default pods. */
  nodeResolvConf: string;
  log: (message: string) => void;
}

const HEARTBEAT_MS = 10_000;
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

const isNotFound = (err: unknown) => (err as { code?: number }).code === 404;

/**
 * The testbed's kubelet for one node: registers the Node and keeps it Ready,
 * routes other nodes' pod CIDRs, and runs the pods bound to it (sandbox through
 * CNI and the NRI runtime, containers as processes).
 */
export class NodeAgent {
  private readonly core: CoreV1Api;
  private readonly nri: NriRuntime;
  private readonly events: EventRecorder;
  private readonly pods = new Map<string, PodRuntime>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly retries = new Map<string, number>();
  private readonly dirtyStatus = new Set<string>();
  private readonly statusWrites = new Map<string, Promise<void>>();
  private readonly routes = new Map<string, string>();
  private podWatch: ResilientWatch<V1Pod & ApiObject> | undefined;
  private nodeWatch: ResilientWatch<V1Node & ApiObject> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private ctx: NodeContext | undefined;
  private stopped = false;

  constructor(private readonly opts: NodeAgentOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.events = new EventRecorder(this.core, 'kubelet', opts.node.name, { warn: (fields, msg) => opts.log(`${opts.node.name}: ${msg} ${JSON.stringify(fields)}`) });
    this.nri = new NriRuntime(join(this.nodeRoot, 'var/run/nri/nri.sock'), join(opts.runDir, 'logs', `${opts.node.name}-nri.log`), opts.node.nri);
  }

  get name(): string {
    return this.opts.node.name;
  }

  get cluster(): string {
    return this.opts.cluster.name;
  }

  /** Kills this node's NRI runtime and starts it again knowing the sandboxes that still run, as containerd reloads them. */
  async restartNriRuntime(): Promise<void> {
    await this.nri.restart(() => [...this.pods.values()].map((p) => p.nriSandbox).filter((s) => s !== undefined));
  }

  /** Stands in for this node's root filesystem (hostPath volumes, the NRI socket). */
  get nodeRoot(): string {
    return join(this.opts.runDir, 'nodes', this.opts.node.name, 'root');
  }

  async start(): Promise<void> {
    await mkdir(join(this.nodeRoot, 'var/run/nri'), { recursive: true });
    await mkdir(join(this.opts.runDir, 'logs'), { recursive: true });
    await this.nri.start();
    await this.register();
    const podCidr = await waitFor(
      async () => (await this.core.readNode({ name: this.name })).spec?.podCIDR,
      { what: `pod CIDR of node ${this.name}`, timeoutMs: 60_000 },
    );
    this.ctx = this.context(podCidr);
    await this.reportReady();
    this.heartbeat = setInterval(() => void this.reportReady().catch((e: unknown) => this.opts.log(`${this.name} heartbeat: ${(e as Error).message}`)), HEARTBEAT_MS);
    const network = this.opts.networkKubeConfig.makeApiClient(CoreV1Api);
    this.nodeWatch = new ResilientWatch(
      this.opts.networkKubeConfig,
      '/api/v1/nodes',
      whole<V1Node>('Node'),
      () => network.listNode(),
      { upsert: (n) => void this.routeTo(n), remove: (n) => void this.unrouteTo(n) },
      this.opts.log,
    );
    await this.nodeWatch.start();
    const selector = `spec.nodeName=${this.name}`;
    this.podWatch = new ResilientWatch(
      this.opts.kubeConfig,
      '/api/v1/pods',
      whole<V1Pod>('Pod'),
      () => this.core.listPodForAllNamespaces({ fieldSelector: selector }),
      { upsert: (p) => this.enqueue(p, () => this.sync(p)), remove: (p) => this.enqueue(p, () => this.forget(p)) },
      this.opts.log,
      { field: selector },
    );
    await this.podWatch.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    await this.podWatch?.stop();
    await this.nodeWatch?.stop();
    await Promise.allSettled(this.queues.values());
    await Promise.allSettled([...this.pods.values()].map((p) => p.stop(2)));
    this.pods.clear();
    await this.nri.stop();
  }

  private context(podCidr: string): NodeContext {
    const { cluster, node } = this.opts;
    const sources = {
      configMap: async (namespace: string, name: string) =>
        this.core.readNamespacedConfigMap({ name, namespace }).then(
          (cm) => cm.data ?? {},
          (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err as Error)),
        ),
      secret: async (namespace: string, name: string) =>
        this.core.readNamespacedSecret({ name, namespace }).then(
          (s) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])),
          (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err as Error)),
        ),
    };
    return {
      ...sources,
      nodeName: node.name,
      nodeNetns: node.netns,
      nodeIp: node.ip,
      clusterName: cluster.name,
      dnsServiceIp: cluster.dnsServiceIp,
      apiServiceIp: cluster.apiServiceIp,
      nodeResolvConf: this.opts.nodeResolvConf,
      cniConfig: cniConfig(cluster.cni, podCidr, join(this.opts.runDir, 'nodes', node.name, 'cni')),
      runDir: this.opts.runDir,
      createdPathsFile: this.opts.createdPathsFile,
      pidFile: this.opts.pidFile,
      tools: {
        coredns: toolPath('coredns'),
        kubeProxy: toolPath('kube-proxy'),
        node: process.execPath,
        fleetboard: {
          'fleetboard-plugin': join(repoRoot, 'dist/plugin/main.js'),
          'fleetboard-controller': join(repoRoot, 'dist/controller/main.js'),
          'fleetboard-hub': join(repoRoot, 'dist/controller/hub/main.js'),
          'fleetboard-crossdns': join(repoRoot, 'dist/controller/crossdns/main.js'),
          'fleetboard-bench': join(repoRoot, 'dist/controller/benchagent/main.js'),
        },
      },
      nri: this.nri,
      volumeDeps: {
        ...sources,
        nodeRoot: this.nodeRoot,
        serviceAccountToken: async (pod, audience, expirationSeconds) => {
          const tr = await this.core.createNamespacedServiceAccountToken({
            name: pod.spec?.serviceAccountName ?? 'default',
            namespace: pod.metadata?.namespace ?? 'default',
            body: {
              spec: {
                audiences: audience ? [audience] : [],
                expirationSeconds,
                boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
              },
            },
          });
          return tr.status?.token ?? '';
        },
      },
      statusChanged: (p) => this.markDirty(p),
      event: (pod, type, reason, message) => this.event(pod, type, reason, message),
      log: this.opts.log,
    };
  }

  private async register(): Promise<void> {
    const body: V1Node = {
      metadata: {
        name: this.name,
        labels: {
          'kubernetes.io/hostname': this.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'fleetboard.io/testbed-cluster': this.opts.cluster.name,
        },
      },
    };
    await this.core.createNode({ body }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }

  private async reportReady(): Promise<void> {
    const now = new Date().toISOString();
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
    });
    const resources = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '20Gi' };
    await this.core.patchNodeStatus(
      {
        name: this.name,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: this.opts.node.ip },
              { type: 'Hostname', address: this.name },
            ],
            capacity: resources,
            allocatable: resources,
            conditions: [
              cond('Ready', 'True', 'KubeletReady', 'testbed node agent is posting ready status'),
              cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'sufficient memory'),
              cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'no disk pressure'),
              cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'sufficient PIDs'),
            ],
            nodeInfo: {
              machineID: this.name,
              systemUUID: this.name,
              bootID: this.name,
              kernelVersion: '',
              osImage: 'FleetBoard testbed',
              containerRuntimeVersion: 'testbed://1.0',
              kubeletVersion: 'v1.35.4',
              kubeProxyVersion: '',
              operatingSystem: 'linux',
              architecture: 'amd64',
            },
          },
        },
      },
      strategic,
    );
  }

  private async routeTo(n: V1Node): Promise<void> {
    const name = n.metadata?.name ?? '';
    const cidr = n.spec?.podCIDR;
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (name === this.name || !cidr || !ip || this.routes.get(name) === `${cidr} via ${ip}`) return;
    try {
      await addRoute(this.opts.node.netns, cidr, ip);
      this.routes.set(name, `${cidr} via ${ip}`);
    } catch (err) {
      this.opts.log(`${this.name}: route to ${name} pods: ${(err as Error).message}`);
    }
  }

  private async unrouteTo(n: V1Node): Promise<void> {
    const cidr = n.spec?.podCIDR;
    this.routes.delete(n.metadata?.name ?? '');
    if (cidr) await deleteRouteIfPresent(this.opts.node.netns, cidr);
  }

  /** Runs pod operations one at a time per pod, in arrival order. */
  private enqueue(pod: V1Pod, op: () => Promise<void>): void {
    const uid = pod.metadata?.uid ?? '';
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev
      .then(op)
      .catch((err: unknown) => this.opts.log(`${this.name}: pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}: ${(err as Error).message}`))
      .finally(() => {
        if (this.queues.get(uid) === next) this.queues.delete(uid);
      });
    this.queues.set(uid, next);
  }

  private async sync(pod: V1Pod): Promise<void> {
    const ctx = this.ctx;
    if (this.stopped || !ctx) return;
    const uid = pod.metadata?.uid ?? '';
    const existing = this.pods.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (existing) {
        this.pods.delete(uid);
        await existing.stop(Math.min(pod.metadata.deletionGracePeriodSeconds ?? 30, 30));
      }
      await this.core
        .deleteNamespacedPod({ name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      this.opts.log(`${this.name}: pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} stopped and deleted`);
      return;
    }
    if (existing) {
      existing.pod = pod;
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const rt = new PodRuntime(pod, ctx);
    this.pods.set(uid, rt);
    try {
      await rt.start();
      this.retries.delete(uid);
    } catch (err) {
      const message = (err as Error).message;
      const sandboxFailed = !rt.record.sandboxReady;
      if (sandboxFailed) {
        // The runtime gives a pod no address until its sandbox exists.
        rt.record.sandboxError = message;
        rt.record.podIp = undefined;
      }
      this.event(pod, 'Warning', sandboxFailed ? 'FailedCreatePodSandBox' : 'Failed', message);
      this.opts.log(`${this.name}: ${rt.key} failed to start: ${message}`);
      await rt.stop(0);
      this.markDirty(rt);
      this.pods.delete(uid);
      const attempt = (this.retries.get(uid) ?? 0) + 1;
      this.retries.set(uid, attempt);
      const backoff = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      void delay(backoff).then(() => {
        const latest = this.podWatch?.cached().find((p) => p.metadata.uid === uid);
        if (latest && !this.stopped) this.enqueue(latest, () => this.sync(latest));
      });
    }
  }

  private async forget(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const rt = this.pods.get(uid);
    this.retries.delete(uid);
    if (!rt) return;
    this.pods.delete(uid);
    await rt.stop(0);
  }

  /**
   * Coalesces status writes, one at a time per pod: a change while a write is
   * in flight is written after it, so a stale status can never land last
   * (two concurrent patches may reach the apiserver in either order).
   */
  private markDirty(rt: PodRuntime): void {
    const uid = rt.pod.metadata?.uid ?? '';
    if (this.dirtyStatus.has(uid)) return;
    this.dirtyStatus.add(uid);
    const write = (this.statusWrites.get(uid) ?? Promise.resolve())
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(async () => {
        // Cleared before the status is read: a change from here on needs (and chains) a write of its own.
        this.dirtyStatus.delete(uid);
        await this.core.patchNamespacedPodStatus(
          { name: rt.pod.metadata?.name ?? '', namespace: rt.pod.metadata?.namespace ?? '', body: { status: podStatus(rt.record, new Date()) } },
          strategic,
        );
      })
      .catch((err: unknown) => {
        if (isNotFound(err)) return;
        this.opts.log(`${this.name}: status of ${rt.key}: ${(err as Error).message}; retrying`);
        setTimeout(() => {
          if (!this.stopped && this.pods.get(uid) === rt) this.markDirty(rt);
        }, 1000).unref();
      })
      .finally(() => {
        if (this.statusWrites.get(uid) === write) this.statusWrites.delete(uid);
      });
    this.statusWrites.set(uid, write);
  }

  private event(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const ref = { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
    this.events.emit(ref, type, reason, message);
  }

}
